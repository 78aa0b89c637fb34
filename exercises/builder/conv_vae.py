"""conv_vae: the VAE building blocks, a convolutional VAE, and a comparison with the given fully connected VAE."""
from builder.cells import Answer, Given, Manual, Markdown, Setup, Test
from builder.common import SETUP_CODE, SETUP_IMPORTS, STDERR_NOTE, TRAINING_HELPERS, TRAINING_IMPORTS, points
from solutions.vae import ConvVAE, FCVAE, kl_divergence, reparameterize, train_vae, vae_loss

ASSIGNMENT = "conv_vae"
FIGURE_POINTS = 4
DISCUSSION_POINTS = 6


def cells() -> list:
    return [
        Markdown(rf"""
        # Assignment 3.2: a convolutional VAE on CIFAR-10

        You will write the parts of a variational autoencoder (VAE) -- the reparameterization trick, the KL
        divergence, the loss -- then a **convolutional** VAE and its training loop. The notebook trains the
        given **fully connected** VAE and yours on CIFAR-10 and you compare what they reconstruct and generate.

        ## The contract

        The grader calls exactly these names with these shapes, so keep them.

        | you write | inputs | returns |
        |---|---|---|
        | `reparameterize(mu, logvar)` | `mu`, `logvar`: (B, D) | `z` (B, D) $= \mu + \varepsilon \odot \exp(\tfrac12 \log\sigma^2)$, $\varepsilon \sim \mathcal N(0, I)$ |
        | `kl_divergence(mu, logvar)` | (B, D), (B, D) | (B,): $\mathrm{{KL}}(\mathcal N(\mu, \mathrm{{diag}}\,\sigma^2) \,\|\, \mathcal N(0, I))$ summed over the D latent dimensions |
        | `vae_loss(x_hat, x, mu, logvar, beta=1.0)` | images (B, C, H, W), latents (B, D) | `(loss, recon, kl)`, three scalars (see part 3) |
        | `ConvVAE(latent_dim=128, in_channels=3, image_size=32)` | `image_size` 32 or 64 | an `nn.Module` with `.latent_dim`, `encode(x) -> (mu, logvar)`, `decode(z) -> x_hat`, `forward(x) -> (x_hat, mu, logvar)` |
        | `train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0)` | a loader of `(x, y)` or of bare `x` | a list: the mean loss per image of each epoch |

        Conventions: images are float tensors in $[0, 1]$ of shape (B, C, H, W); latent codes are (B, D);
        `logvar` is the **log-variance** $\log\sigma^2$ (not $\sigma$, not $\log\sigma$).

        ## How this notebook is graded

        * Each exercise is followed by a read-only test cell. The asserts you can see check shapes and basics;
          hidden tests run when your notebook is graded and check the values, the gradients and the training.
          Passing the visible asserts does not guarantee full marks.
        * The comparison figure ({FIGURE_POINTS} points) and the discussion ({DISCUSSION_POINTS} points) are graded
          by hand.
        * {STDERR_NOTE}
        * Do not rename the functions. Read-only cells are restored when grading, so edits to them are lost.

        **Before you submit**: *Kernel -> Restart & Run All*, check that every cell ran, and submit
        `conv_vae.ipynb` together with `fc_vae_cifar10.pt` and `conv_vae_cifar10.pt`, the two models the training
        cells save. While grading, the notebook loads them instead of training again, so the figure the grader sees
        is made from your models. `interpolation` can use `conv_vae_cifar10.pt` too.

        **Time**: the exercises are small; training both models on a laptop CPU takes about 10 minutes with the
        defaults of part 7 (progress bars show how far along it is).

        The book's chapters on the ELBO and on the reparameterization trick derive every formula used here.
        """, name="intro"),
        Setup(SETUP_IMPORTS + TRAINING_IMPORTS + '''
import math

import matplotlib.pyplot as plt
import torch.nn.functional as F
from torch import nn

from course_utils.data import cifar10
from course_utils.plotting import image_rows
''', SETUP_CODE),

        Markdown(rf"""
        ## 1. The reparameterization trick ({points(ASSIGNMENT, "reparameterize")})

        The encoder maps an image $x$ to the parameters of the approximate posterior
        $q(z \mid x) = \mathcal N(\mu, \mathrm{{diag}}\,\sigma^2)$: the mean `mu` and the log-variance
        `logvar` $= \log\sigma^2$ (an unconstrained real number, whereas $\sigma$ must be positive).
        Drawing $z \sim q$ with a sampler is not differentiable in $\mu$ and $\sigma$; writing the sample as a
        deterministic function of them and of noise that does not depend on them is:

        $$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I), \qquad \sigma = \exp(\tfrac12 \log\sigma^2).$$

        Write `reparameterize(mu, logvar)`: `mu`, `logvar` of shape (B, D) to `z` of shape (B, D), with
        `torch.randn_like` for $\varepsilon$. Gradients must flow to `mu` and `logvar`.
        """),
        Answer(reparameterize),
        Test("reparameterize", '''
        mu = torch.zeros(5, 3, requires_grad=True)
        logvar = torch.zeros(5, 3, requires_grad=True)
        z = reparameterize(mu, logvar)
        assert isinstance(z, torch.Tensor) and z.shape == (5, 3), \\
            f"z should have the shape of mu, (5, 3); got {getattr(z, 'shape', type(z))}"
        z.sum().backward()
        assert mu.grad is not None and logvar.grad is not None, (
            "no gradient reached mu or logvar: compute z from mu and logvar with torch operations "
            "(torch.normal(mu, std) or .detach() cut the graph)")
        z = reparameterize(torch.full((1000, 2), 3.0), torch.full((1000, 2), -20.0))
        assert torch.allclose(z, torch.full_like(z, 3.0), atol=1e-3), \\
            "with logvar = -20 (sigma = 4.5e-5) every z should equal mu: is logvar used as log(sigma^2)?"
        z = reparameterize(torch.zeros(20000, 1), torch.full((20000, 1), math.log(4.0)))
        assert abs(z.std().item() - 2.0) < 0.1, \\
            f"with logvar = log(4) the samples' std should be 2, got {z.std().item():.2f}: sigma = exp(0.5 * logvar)"
        print("reparameterize: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 2. The KL divergence ({points(ASSIGNMENT, "kl_divergence")})

        The second term of the ELBO keeps each posterior close to the prior $p(z) = \mathcal N(0, I)$. For
        Gaussians it has a closed form (Kingma & Welling, 2014, appendix B), a sum over the $D$ latent dimensions:

        $$\mathrm{{KL}}\big(\mathcal N(\mu, \mathrm{{diag}}\,\sigma^2) \,\|\, \mathcal N(0, I)\big)
          = -\tfrac12 \sum_{{j=1}}^{{D}} \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).$$

        Write `kl_divergence(mu, logvar)`: inputs (B, D), output (B,), one KL per sample, in nats.
        """),
        Answer(kl_divergence),
        Test("kl_divergence", '''
        kl = kl_divergence(torch.zeros(4, 8), torch.zeros(4, 8))
        assert isinstance(kl, torch.Tensor) and kl.shape == (4,), \\
            f"one KL per sample: shape (B,) = (4,), got {getattr(kl, 'shape', type(kl))}; sum over dim=1 only"
        assert torch.allclose(kl, torch.zeros(4), atol=1e-6), "q = N(0, I) is the prior itself, so the KL must be 0"
        kl = kl_divergence(torch.ones(1, 2), torch.zeros(1, 2))
        assert torch.allclose(kl, torch.tensor([1.0]), atol=1e-5), \\
            f"mu = (1, 1) and sigma = 1 give KL = (1 + 1) / 2 = 1, got {kl.item():.4f}"
        kl = kl_divergence(torch.randn(64, 16), torch.randn(64, 16))
        assert (kl >= 0).all(), "a KL divergence is never negative: check the signs of the four terms"
        print("kl_divergence: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 3. The loss: the negative ELBO ({points(ASSIGNMENT, "vae_loss")})

        Training maximises the evidence lower bound, so the loss of one image is

        $$-\mathrm{{ELBO}}(x) = \underbrace{{-\mathbb E_{{q(z \mid x)}}[\log p(x \mid z)]}}_{{\texttt{{recon}}}}
          + \beta\, \underbrace{{\mathrm{{KL}}(q(z \mid x) \,\|\, p(z))}}_{{\texttt{{kl}}}},$$

        estimated with the one sample $z$ that produced `x_hat`. With a Bernoulli decoder, $-\log p(x \mid z)$ is
        the binary cross-entropy between `x_hat` and `x`, **summed over all $C \cdot H \cdot W$ pixel values** of
        the image. Average both terms over the batch. $\beta = 1$ is the ELBO; other values give a $\beta$-VAE.

        Write `vae_loss(x_hat, x, mu, logvar, beta=1.0)` returning `(loss, recon, kl)`, three scalar tensors:
        `recon` = BCE summed over pixel values and averaged over the batch, `kl` = your `kl_divergence` averaged
        over the batch, `loss = recon + beta * kl`.

        *Why a sum?* `F.binary_cross_entropy`'s default averages over the 3072 pixel values of a CIFAR image as
        well; that shrinks the reconstruction term 3072-fold next to the KL, and the model learns to ignore $z$.
        """),
        Answer(vae_loss),
        Test("vae_loss", '''
        x = torch.rand(4, 3, 8, 8)
        x_hat = torch.rand(4, 3, 8, 8).clamp(0.01, 0.99)
        mu, logvar = torch.randn(4, 5), torch.randn(4, 5)
        result = vae_loss(x_hat, x, mu, logvar)
        assert isinstance(result, tuple) and len(result) == 3, "vae_loss returns a tuple (loss, recon, kl)"
        loss, recon, kl = result
        assert all(isinstance(t, torch.Tensor) and t.dim() == 0 for t in result), \\
            "loss, recon and kl are scalar tensors (averaged over the batch), so that loss.backward() works"
        assert torch.allclose(loss, recon + kl), "with beta = 1, loss = recon + kl"
        loss_half, recon_half, kl_half = vae_loss(x_hat, x, mu, logvar, beta=0.5)
        assert torch.allclose(loss_half, recon_half + 0.5 * kl_half), "beta weighs the KL term: loss = recon + beta * kl"
        assert recon > 100 * F.binary_cross_entropy(x_hat, x), \\
            "recon is summed over the 3 * 8 * 8 pixel values of an image, not averaged over them"
        _, recon_twice, kl_twice = vae_loss(torch.cat([x_hat, x_hat]), torch.cat([x, x]), torch.cat([mu, mu]),
                                            torch.cat([logvar, logvar]))
        assert torch.allclose(recon_twice, recon) and torch.allclose(kl_twice, kl), \\
            "both terms are averaged over the batch: the same images twice must give the same values"
        print("vae_loss: the visible tests passed")
        '''),

        Markdown(r"""
        ## 4. The fully connected VAE (given)

        The baseline flattens each image into a vector of $3 \cdot 32 \cdot 32 = 3072$ numbers and uses `nn.Linear`
        layers only. Every output pixel is connected to every input pixel, and nothing tells the model that
        neighbouring pixels belong together. It uses your `reparameterize`. Read it: your `ConvVAE` has the same
        interface.
        """),
        Given("fcvae", embed=(FCVAE,)),

        Markdown(rf"""
        ## 5. Your convolutional VAE ({points(ASSIGNMENT, "conv_vae_shapes", "conv_vae_layers")})

        Write `ConvVAE(latent_dim=128, in_channels=3, image_size=32)`, for square images of side 32 or 64
        (`new_dataset` trains it on 64x64 faces):

        * `self.latent_dim = latent_dim`;
        * `encode(x)`: (B, C, S, S) -> `(mu, logvar)`, each (B, latent_dim). Convolutions (`nn.Conv2d`) with
          stride 2 halve the image until it is small (say 4x4), then two `nn.Linear` heads give `mu` and `logvar`;
        * `decode(z)`: (B, latent_dim) -> (B, C, S, S) **in [0, 1]**: a `nn.Linear` back to a small feature map,
          then transposed convolutions (`nn.ConvTranspose2d`, stride 2) that double it back to S, and a sigmoid;
        * `forward(x)` -> `(x_hat, mu, logvar)`, decoding `z = reparameterize(mu, logvar)`.

        A good start: `kernel_size=4, stride=2, padding=1` halves (or, transposed, doubles) the side exactly;
        32 -> 16 -> 8 -> 4 with 64, 128, 256 channels and (leaky) ReLUs in between. Keep it to a few million
        parameters so that it trains on a laptop. The hidden tests come in two parts: the interface and the shapes,
        then the layers -- `encode` must run `nn.Conv2d` layers, `decode` transposed convolutions (or upsampling
        and convolutions), and `forward` must decode a fresh sample, not `mu`.
        """),
        Answer(ConvVAE),
        Test("conv_vae_shapes", '''
        model = ConvVAE(latent_dim=16)
        assert model.latent_dim == 16, "keep the latent size as model.latent_dim"
        x = torch.rand(2, 3, 32, 32)
        mu, logvar = model.encode(x)
        assert mu.shape == (2, 16) and logvar.shape == (2, 16), \\
            f"encode should return mu and logvar of shape (B, latent_dim) = (2, 16), got {tuple(mu.shape)}, {tuple(logvar.shape)}"
        x_hat = model.decode(mu)
        assert x_hat.shape == x.shape, f"decode should return images (2, 3, 32, 32), got {tuple(x_hat.shape)}"
        assert x_hat.min() >= 0 and x_hat.max() <= 1, \\
            "decoded images must be in [0, 1] (end the decoder with a sigmoid): the BCE loss needs probabilities"
        x_hat, mu, logvar = model(x)
        assert x_hat.shape == x.shape and mu.shape == (2, 16), "forward returns (x_hat, mu, logvar)"
        faces = ConvVAE(latent_dim=8, image_size=64)
        assert faces(torch.rand(2, 3, 64, 64))[0].shape == (2, 3, 64, 64), \\
            "ConvVAE(image_size=64) must reconstruct (B, 3, 64, 64) images: new_dataset needs it"
        print("ConvVAE shapes: the visible tests passed")
        '''),
        Test("conv_vae_layers", '''
        model = ConvVAE()
        assert any(isinstance(m, nn.Conv2d) for m in model.modules()), "the encoder should use nn.Conv2d layers"
        parameters = sum(p.numel() for p in model.parameters())
        assert parameters < 20_000_000, \\
            f"{parameters:,} parameters is too many to train on a laptop: aim for a few million"
        print(f"ConvVAE: {parameters:,} parameters, the visible tests passed")
        '''),

        Markdown(rf"""
        ## 6. The training loop ({points(ASSIGNMENT, "train_vae")})

        Write `train_vae(model, loader, epochs=1, lr=1e-3, device="cpu", beta=1.0)`:

        * move the model to `device` and put it in training mode; create `torch.optim.Adam(model.parameters(), lr=lr)`;
        * for each epoch and each batch: the loader yields `(x, y)` pairs or bare image tensors `x`; move `x` to
          `device`, run the model, compute `vae_loss` (with `beta`), then `zero_grad`, `backward`, `step`;
        * return a list with one float per epoch: the epoch's **mean loss per image** (weigh each batch's
          loss by its batch size; the last batch may be smaller).

        No printing and no progress bars inside `train_vae`: the cells below wrap the loader in one.
        """),
        Answer(train_vae),
        Test("train_vae", '''
        torch.manual_seed(0)
        images = torch.rand(64, 3, 32, 32)
        loader = [(images[i:i + 16], torch.zeros(16)) for i in range(0, 64, 16)]
        model = FCVAE(latent_dim=8, hidden_dim=64)
        before = [p.detach().clone() for p in model.parameters()]
        history = train_vae(model, loader, epochs=2)
        assert isinstance(history, list) and len(history) == 2, "train_vae returns a list with one number per epoch"
        assert all(isinstance(v, float) for v in history), "each entry is a Python float (use loss.item())"
        assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters())), \\
            "the parameters did not change: call optimizer.zero_grad(), loss.backward() and optimizer.step() per batch"
        assert history[1] < history[0], f"the mean loss should fall from epoch 1 to epoch 2 here, got {history}"
        assert len(train_vae(model, [images[:32], images[32:]])) == 1, "train_vae must accept bare image batches too"
        print("train_vae: the visible tests passed")
        '''),

        Markdown(r"""
        ## 7. Training both models on CIFAR-10

        CIFAR-10 has 50,000 training images of 32x32 pixels in 10 classes. The first run downloads it
        (170 MB, once) into the course's `data/` folder and decodes it into a cache, so later runs start in seconds.
        The defaults train on 20,000 images for 3 epochs, about 10 minutes on a laptop CPU for both models. With a
        GPU (or Colab), set `TRAIN_IMAGES = 50_000` and `EPOCHS = 10` for much better pictures.
        """),
        Given("training_helpers", code=TRAINING_HELPERS),
        Given("data", code='''
        TRAIN_IMAGES = 20_000
        EPOCHS = 3
        BATCH_SIZE = 128
        LATENT_DIM = 128

        if AUTOGRADING:  # no dataset while grading: a few steps on smooth random pictures
            TRAIN_IMAGES, EPOCHS, BATCH_SIZE = 64, 1, 32
            train_split = stand_in_split(64, 32, torch.zeros(64, dtype=torch.long))
            test_split = stand_in_split(16, 32, torch.zeros(16, dtype=torch.long), seed=1)
        else:
            cifar10(DATA_ROOT, "train", download=True)  # fetches CIFAR-10 unless it is already in DATA_ROOT
            train_split = load_cached("cifar10", DATA_ROOT, "train")
            test_split = load_cached("cifar10", DATA_ROOT, "test")
        train_loader = InMemoryLoader(train_split, BATCH_SIZE, shuffle=True, limit=TRAIN_IMAGES, device=device)
        spread = torch.linspace(0, len(test_split) - 1, 16).long()  # across the split, so across the classes
        test_images = test_split.images[spread].float() / 255  # (16, 3, 32, 32) in [0, 1], for the reconstructions
        print(f"{len(train_loader)} batches of {BATCH_SIZE} images per epoch, {EPOCHS} epochs")
        '''),
        Given("train", code='''
        FC_CHECKPOINT, CONV_CHECKPOINT = Path("fc_vae_cifar10.pt"), Path("conv_vae_cifar10.pt")
        fc_model = FCVAE(latent_dim=LATENT_DIM)
        fc_history = train_or_load(fc_model, train_loader, FC_CHECKPOINT, "FC VAE", EPOCHS)
        conv_model = ConvVAE(latent_dim=LATENT_DIM)
        conv_history = train_or_load(conv_model, train_loader, CONV_CHECKPOINT, "conv VAE", EPOCHS)

        for name, model, history in [("FC VAE", fc_model, fc_history), ("conv VAE", conv_model, conv_history)]:
            parameters = sum(p.numel() for p in model.parameters())
            losses = ", ".join(f"{loss:.1f}" for loss in history) or "loaded from the checkpoint"
            print(f"{name}: {parameters:,} parameters; mean loss per image by epoch (nats): {losses}")
        '''),

        Markdown(rf"""
        ## 8. Compare the two models ({FIGURE_POINTS} points, graded by hand)

        Make **one figure** that lets a reader compare the models:

        * **samples**: decode 16 codes $z \sim \mathcal N(0, I)$ with each model (the same codes for both);
        * **reconstructions**: the 16 `test_images` above, and beside them each model's reconstruction
          (decode the posterior mean `mu`).

        Label which row is which. Use `eval()` mode and `torch.no_grad()`. `image_rows(rows, labels, title=..., ax=...)`
        from `course_utils.plotting` draws equally long, labelled rows of images.
        """),
        Manual("comparison_figure", FIGURE_POINTS, code=True, answer='''
        fc_model.eval()
        conv_model.eval()
        with torch.no_grad():
            z = torch.randn(16, LATENT_DIM, device=device)  # the same codes for both models
            samples = [fc_model.decode(z), conv_model.decode(z)]
            x = test_images.to(device)
            reconstructions = [model.decode(model.encode(x)[0]) for model in (fc_model, conv_model)]
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5))
        image_rows(samples, ["FC VAE", "conv VAE"], title="Samples: decode z ~ N(0, I), same z for both", ax=top)
        image_rows([x] + reconstructions, ["test image", "FC VAE", "conv VAE"],
                   title="Reconstructions: decode the posterior mean", ax=bottom)
        plt.show()
        ''', mark_scheme="""
        4 points in total, one per item:
        1. Prior samples of BOTH models: decoded from z ~ N(0, I) (not reconstructions, not the test images), at
           least 8 per model, and labelled so the reader knows which model made which row.
        2. Reconstructions of the SAME test images by BOTH models, shown next to the originals, labelled.
        3. Done correctly: eval mode / torch.no_grad (or equivalent), the posterior mean or a sample of q(z|x) for
           the reconstructions, colours right (channels-last for imshow, values in [0, 1], no colour noise from a
           wrong permute or reshape).
        4. Readable: a title or labels state what each row is; the two models get the same treatment (same number
           of samples, same test images, ideally the same z), so that the comparison is fair.
        Half a point off an item for a minor slip (e.g. a missing label); 0 for an item that is missing or wrong.
        A figure that the grading run could not draw because the cell fails gets 0 for items 3 and 4 and at most
        1 for items 1-2 (judged from the code).
        """),

        Markdown(rf"""
        ## 9. Discussion ({DISCUSSION_POINTS} points, graded by hand)

        In a few short paragraphs (about 150-250 words): how do the two models differ in their **reconstructions**
        and in their **samples**? Quote the final training losses printed in part 7 and the parameter counts.
        **Why** does the convolutional model behave differently -- which assumptions about images does a
        convolution build in that a fully connected layer does not? And why are the samples of both models blurry?
        """),
        Manual("discussion", DISCUSSION_POINTS, answer="""
        **Reconstructions.** The convolutional VAE reconstructs the test images more faithfully: edges, the
        outline of the object and the colours of object and background are kept, although fine texture is lost.
        The fully connected VAE gets the rough layout and average colours right but smears edges, and its
        reconstructions look like blurred colour fields. Its training loss per image (in nats) is higher,
        although it has about three times as many parameters (8.8 million against 2.9 million).

        **Samples.** Both models' samples are blurry. The convolutional model's samples are spatially coherent
        (a central blob against a background, plausible colour layouts, soft edges) while the FC model's are
        closer to smooth colour gradients with less structure. Neither produces recognisable objects at this
        training budget.

        **Why.** A convolution is local (each output sees a small neighbourhood of pixels) and shares its weights
        across positions, so it is translation-equivariant: an edge detector learnt in one place works in every
        place. These priors match natural images, so the conv model spends its parameters on reusable local
        features and learns faster from the same data. The FC model must learn every position separately with
        weights that connect every pixel to every other pixel, and has no notion of neighbourhood.

        **Blur.** The decoder outputs a mean per pixel under a factorised (Bernoulli) likelihood: when the latent
        code leaves the details uncertain, the best prediction is the average of the plausible images, which is
        blurry. The KL term limits how much information z carries about each image, and prior samples land in
        regions between training codes, so samples are blurrier than reconstructions.
        """, mark_scheme="""
        6 points:
        * 1 point: reconstructions compared correctly, based on the figure (conv sharper / more faithful edges and
          colours; FC blurrier). Generic statements not tied to the figure: 0.5.
        * 1 point: samples compared correctly (both blurry; conv more spatially coherent). Claiming sharp realistic
          objects that the figure does not show: 0.
        * 1 point: numbers quoted: final losses of both models (and which is lower) and the parameter counts, as
          printed by the notebook. One of the two: 0.5.
        * 2 points: explanation by inductive bias: locality / local receptive fields AND weight sharing /
          translation equivariance (1 point each); "convolutions are better for images" without a reason: 0.5 in
          total.
        * 1 point: why VAE samples are blurry: the factorised pixel likelihood makes the decoder output the mean of
          the plausible images (averaging), and/or the KL term limits the information in z / prior samples fall
          between training codes. Only "not trained long enough": 0.
        Answers that contradict the student's own figure lose the point of that item. Length is not rewarded.
        """),

        Markdown(r"""
        ## Before you submit

        *Kernel -> Restart & Run All*, then check that every test cell printed "the visible tests passed" and
        that the figure shows both models. Submit this notebook with `fc_vae_cifar10.pt` and `conv_vae_cifar10.pt`.
        """, name="submit"),
    ]
