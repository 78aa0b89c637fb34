"""new_dataset: the conv VAE on CelebA faces at 64x64, and an exploration of its latent space."""
from builder.cells import Answer, Given, Manual, Markdown, Paste, Setup, Test
from builder.common import SETUP_CODE, SETUP_IMPORTS, STDERR_NOTE, TRAINING_HELPERS, TRAINING_IMPORTS, points
from course_utils.data import celeba_transform
from solutions.explore import apply_direction, attribute_direction, most_active_dims, sample_near, sample_prior, traverse
from solutions.vae import ConvVAE, kl_divergence, reparameterize, train_vae, vae_loss

ASSIGNMENT = "new_dataset"
ANALYSIS_POINTS = 8


def cells() -> list:
    return [
        Markdown(rf"""
        # Assignment 3.4: a VAE of faces

        You train your convolutional VAE from `conv_vae` on **CelebA**, 200,000 photographs of celebrities'
        faces, aligned so that the eyes sit at the same height, at 64x64 pixels. Then you explore what the model
        has learnt: samples from the prior, neighbourhoods of a face, single latent dimensions, and directions
        that add or remove a smile.

        ## The contract

        | you write | inputs | returns |
        |---|---|---|
        | `celeba_transform(image_size=64)` | | a callable: PIL image (any size) -> float tensor (3, S, S) in [0, 1] |
        | `sample_prior(model, n, temperature=1.0, generator=None)` | | (n, C, H, W): decoded $z \sim \mathcal N(0, T^2 I)$ |
        | `sample_near(model, x, n, scale=0.5, generator=None)` | one image (C, H, W) | (n, C, H, W): decoded $\mu(x) + \text{{scale}} \cdot \varepsilon$ |
        | `traverse(model, z, dim, values)` | one code (D,) | (len(values), C, H, W): `z` with `z[dim]` set to each value, decoded |
        | `attribute_direction(model, x_with, x_without)` | two batches of images | (D,): mean $\mu$ of `x_with` minus mean $\mu$ of `x_without` |

        `model` is any VAE with `.latent_dim`, `encode(x) -> (mu, logvar)` and `decode(z)`. Functions that
        sample draw **all** their randomness from `generator` when one is given (so that a seeded figure can be
        redrawn), run the model in eval mode without autograd, and return images on the model's device.

        ## How this notebook is graded

        * Each exercise is followed by a read-only test cell: visible asserts check shapes and basics, hidden
          tests check values and edge cases when your notebook is graded.
        * The analysis at the end ({ANALYSIS_POINTS} points) is graded by hand.
        * {STDERR_NOTE}

        **Data.** `course_utils.data.celeba(download=True)` tries torchvision's download, which Google Drive often
        refuses; the error message then says which files to download by hand from the CelebA web page into the
        course's `data/celeba/` folder. CelebA is for non-commercial research and education only (Liu et al.,
        2015): do not redistribute the images.

        **Time**: training takes about 10 minutes on a laptop CPU with the defaults of part 3. Submit the notebook
        with `conv_vae_celeba64.pt`, which the training cell saves; grading loads it instead of training again.
        """, name="intro"),
        Setup(SETUP_IMPORTS + TRAINING_IMPORTS + '''
import math

import matplotlib.pyplot as plt
import torch.nn.functional as F
from PIL import Image
from torch import nn

from course_utils.data import celeba
from course_utils.plotting import image_rows
''', SETUP_CODE),

        Markdown(rf"""
        ## 1. Preparing the faces ({points(ASSIGNMENT, "celeba_transform")})

        The aligned CelebA images are 178 pixels wide and 218 high, with the face in the middle. Resizing the
        whole picture to 64x64 would squash the faces vertically. Instead, cut a **square around the centre**
        first -- the usual choice is 148 pixels of the 178, i.e. $148/178$ of the width, which keeps the face and
        drops most of the background -- and then resize the square to `image_size`.

        Write `celeba_transform(image_size=64)`, which returns a callable (a function, or a
        `torchvision.transforms.v2.Compose`) taking a PIL image of any size to a float tensor (3, S, S) in [0, 1].
        It must work at other resolutions too (the course's mirror holds the faces at half size, 89x109).
        `torchvision.transforms.v2` has `ToImage`, `CenterCrop`, `Resize` and `ToDtype`.
        """),
        Answer(celeba_transform, hide=("CELEBA_CROP_FRACTION", "_to_unit_float", "_crop_face_square",
                                            "_celeba_pixels"),
               intro="""
               # Define celeba_transform(image_size: int = 64) here (helper functions are fine). It returns a callable:
               # PIL image of any size -> float tensor (3, image_size, image_size) in [0, 1]: crop a centred square (the
               # usual side is 148/178 of the width), then resize it to image_size x image_size.
               """),
        Test("celeba_transform", '''
        portrait = Image.new("RGB", (178, 218), (0, 0, 255))  # CelebA's shape: 178 wide, 218 high
        portrait.paste((255, 0, 0), (0, 0, 178, 20))  # red bands at the top and the bottom, outside any face crop
        portrait.paste((255, 0, 0), (0, 198, 178, 218))
        x = celeba_transform(64)(portrait)
        assert isinstance(x, torch.Tensor) and x.shape == (3, 64, 64), \\
            f"the transform returns a tensor (3, 64, 64), got {getattr(x, 'shape', type(x))}"
        assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1, "pixels are floats in [0, 1]"
        assert x[0].max() < 0.1, \\
            "red shows up: the whole 178x218 picture was squashed into the square; crop a centred square first"
        assert x[2].min() > 0.9, "the centre of the picture (blue) should fill the whole output"
        assert celeba_transform(32)(Image.new("RGB", (89, 109))).shape == (3, 32, 32), \\
            "the transform must handle any input size and output size"
        print("celeba_transform: the visible tests passed")
        '''),

        Markdown(r"""
        ## 2. Your VAE

        Paste your `reparameterize`, `kl_divergence`, `vae_loss`, `ConvVAE` and `train_vae` from `conv_vae` into
        the next cell, unchanged. (They are not graded again here, but everything below uses them.)
        """),
        Paste("my_vae", (reparameterize, kl_divergence, vae_loss, ConvVAE, train_vae),
              intro="# Paste reparameterize, kl_divergence, vae_loss, ConvVAE and train_vae from conv_vae here."),
        Given("check_my_vae", code='''
        faces = ConvVAE(latent_dim=8, image_size=64)
        x_hat, mu, logvar = faces(torch.rand(2, 3, 64, 64))
        assert x_hat.shape == (2, 3, 64, 64) and mu.shape == (2, 8), "ConvVAE(image_size=64) must handle 64x64 faces"
        print("your VAE handles 64x64 images")
        '''),

        Markdown(r"""
        ## 3. Training on CelebA

        The defaults train on 20,000 faces (or all the training faces, when there are fewer) for 3 epochs,
        about 10 minutes on a laptop CPU. With a GPU, use all 162,770 training faces and 10 epochs.
        """),
        Given("training_helpers", code=TRAINING_HELPERS),
        Given("data", code='''
        TRAIN_IMAGES = 20_000
        EPOCHS = 3
        BATCH_SIZE = 128
        LATENT_DIM = 128
        IMAGE_SIZE = 64

        if AUTOGRADING:  # no dataset while grading: a few steps on smooth random pictures
            TRAIN_IMAGES, EPOCHS, BATCH_SIZE = 64, 1, 32
            attributes = torch.randint(0, 2, (64, 2), generator=torch.Generator().manual_seed(0))
            train_split = stand_in_split(64, IMAGE_SIZE, attributes, attr_names=["Smiling", "Eyeglasses"])
            test_split = stand_in_split(64, IMAGE_SIZE, attributes, attr_names=["Smiling", "Eyeglasses"], seed=1)
        else:
            celeba(DATA_ROOT, "train", IMAGE_SIZE, download=True)  # fetches CelebA unless it is in DATA_ROOT
            train_split = load_cached("celeba", DATA_ROOT, "train", IMAGE_SIZE)
            test_split = load_cached("celeba", DATA_ROOT, "test", IMAGE_SIZE)
        train_loader = InMemoryLoader(train_split, BATCH_SIZE, shuffle=True, limit=TRAIN_IMAGES, device=device)
        test_images = test_split.images[:1024].float() / 255  # (N, 3, 64, 64) in [0, 1]
        test_attributes, attribute_names = test_split.targets[:1024], test_split.attr_names
        print(f"{len(train_loader)} batches of {BATCH_SIZE} faces per epoch, {EPOCHS} epochs")
        '''),
        Given("train", code='''
        CHECKPOINT = Path("conv_vae_celeba64.pt")
        model = ConvVAE(latent_dim=LATENT_DIM, image_size=IMAGE_SIZE)
        history = train_or_load(model, train_loader, CHECKPOINT, "conv VAE on CelebA", EPOCHS)
        model.eval()
        print("mean loss per image by epoch (nats): " + (", ".join(f"{loss:.1f}" for loss in history) or "loaded"))
        with torch.no_grad():
            faces = test_images[:8].to(device)
            reconstructions = model.decode(model.encode(faces)[0])
        image_rows([faces, reconstructions], ["test face", "reconstruction"])
        plt.show()
        '''),

        Markdown(rf"""
        ## 4. Samples from the prior ({points(ASSIGNMENT, "sample_prior")})

        Write `sample_prior(model, n, temperature=1.0, generator=None)`: draw $\varepsilon \sim \mathcal N(0, I)$
        of shape (n, D), decode $z = T \varepsilon$. A temperature $T < 1$ stays closer to the centre of the prior.
        The helper `_standard_normal(model, n, generator)` draws $\varepsilon$ on the CPU from `generator` (so a
        seed gives the same faces on any device) and moves it to the model; `evaluating(model)` runs a block in
        eval mode without autograd.
        """),
        Answer(sample_prior),
        Test("sample_prior", '''
        samples = sample_prior(model, 4, generator=torch.Generator().manual_seed(0))
        assert isinstance(samples, torch.Tensor) and samples.shape == (4, 3, 64, 64), \\
            f"sample_prior returns (n, C, H, W) = (4, 3, 64, 64), got {getattr(samples, 'shape', type(samples))}"
        again = sample_prior(model, 4, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(samples, again), \\
            "the same seed must give the same samples: draw every random number from `generator`"
        cold = sample_prior(model, 3, temperature=0.0)
        assert torch.allclose(cold, cold[:1].expand_as(cold), atol=1e-6), "temperature 0 decodes z = 0 every time"
        print("sample_prior: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 5. The neighbourhood of a face ({points(ASSIGNMENT, "sample_near")})

        Write `sample_near(model, x, n, scale=0.5, generator=None)`: encode the one image `x` (C, H, W), keep its
        posterior mean $\mu(x)$, and decode $n$ codes $\mu(x) + \text{{scale}} \cdot \varepsilon$,
        $\varepsilon \sim \mathcal N(0, I)$ from `generator`.
        """),
        Answer(sample_near),
        Test("sample_near", '''
        face = test_images[0]
        near = sample_near(model, face, 5, scale=0.0)
        assert isinstance(near, torch.Tensor) and near.shape == (5, 3, 64, 64), \\
            f"sample_near returns (n, C, H, W) = (5, 3, 64, 64), got {getattr(near, 'shape', type(near))}"
        with evaluating(model):
            centre = model.decode(model.encode(face[None].to(device))[0])
        assert torch.allclose(near, centre.expand_as(near), atol=1e-5), \\
            "with scale 0 every sample decodes the posterior mean mu(x) itself"
        seeded = [sample_near(model, face, 3, generator=torch.Generator().manual_seed(1)) for _ in range(2)]
        assert torch.allclose(*seeded), "the same seed must give the same samples"
        print("sample_near: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 6. Traversing one latent dimension ({points(ASSIGNMENT, "traverse")})

        Write `traverse(model, z, dim, values)`: for each value $v$ decode a copy of the code `z` (D,) whose
        coordinate `dim` is set to $v$. Do not modify `z` itself (`clone` it, or `repeat` it into a new tensor).
        """),
        Answer(traverse),
        Test("traverse", '''
        z = torch.zeros(model.latent_dim)
        frames = traverse(model, z, 3, [-2.0, 0.0, 2.0])
        assert isinstance(frames, torch.Tensor) and frames.shape == (3, 3, 64, 64), \\
            f"traverse returns (len(values), C, H, W) = (3, 3, 64, 64), got {getattr(frames, 'shape', type(frames))}"
        assert torch.equal(z, torch.zeros(model.latent_dim)), "traverse must not modify z: work on a copy"
        with evaluating(model):
            origin = model.decode(z[None].to(device))
        assert torch.allclose(frames[1], origin[0], atol=1e-5), "setting z[3] = 0 leaves z = 0, which decodes as usual"
        print("traverse: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 7. Attribute directions ({points(ASSIGNMENT, "attribute_direction")})

        CelebA labels each face with 40 binary attributes (`Smiling`, `Eyeglasses`, `Male`, ...). If an attribute
        is encoded consistently, the mean code of the faces that have it minus the mean code of those that do not
        points from "without" to "with" (White, 2016; Larsen et al., 2016).

        Write `attribute_direction(model, x_with, x_without)`: the mean posterior mean $\mu$ of the images in
        `x_with` minus that of `x_without`, shape (D,). The given `latent_means(model, images)` encodes many
        images batch by batch.
        """),
        Answer(attribute_direction),
        Test("attribute_direction", '''
        direction = attribute_direction(model, test_images[:6], test_images[6:11])
        assert isinstance(direction, torch.Tensor) and direction.shape == (model.latent_dim,), \\
            f"attribute_direction returns one code (D,) = ({model.latent_dim},), got {getattr(direction, 'shape', type(direction))}"
        assert torch.allclose(attribute_direction(model, test_images[6:11], test_images[:6]), -direction, atol=1e-5), \\
            "swapping the two groups must flip the direction"
        assert torch.allclose(attribute_direction(model, test_images[:6], test_images[:6]), torch.zeros_like(direction),
                              atol=1e-5), "two identical groups give the zero direction"
        print("attribute_direction: the visible tests passed")
        '''),

        Markdown(r"""
        ## 8. Exploring the latent space

        The cells below use your functions to draw four views of the latent space. Run them and look carefully:
        the analysis in part 9 is about what they show.

        **Temperature.** Samples with $z \sim \mathcal N(0, T^2 I)$, the same $\varepsilon$ in every column.
        """),
        Given("figure_temperature", code='''
        temperatures = [0.5, 0.8, 1.0, 1.2]
        rows = [sample_prior(model, 10, t, generator=torch.Generator().manual_seed(0)) for t in temperatures]
        image_rows(rows, [f"T = {t}" for t in temperatures], title="Samples from the prior at four temperatures")
        plt.show()
        '''),
        Markdown(r"""
        **Neighbourhoods.** Two test faces (left) and samples around their posterior means at growing radius.
        """),
        Given("figure_neighbourhood", code='''
        scales = [0.25, 0.5, 1.0, 2.0]
        rows, labels = [], []
        for index in (0, 1):
            face = test_images[index].to(device)
            for scale in scales:
                near = sample_near(model, face, 9, scale, generator=torch.Generator().manual_seed(index))
                rows.append(torch.cat([face[None], near]))
                labels.append(f"face {index}, scale {scale}")
        image_rows(rows, labels, title="A face, then samples of mu(x) + scale * eps")
        plt.show()
        '''),
        Markdown(r"""
        **Traversals.** The five latent dimensions with the largest average KL over the test faces (dimensions with
        a KL near zero are ignored by the decoder), each swept from -3 to 3 around the code of one face.
        """),
        Given("figure_traversal", embed=(most_active_dims,), code='''
        dims, kl = most_active_dims(model, test_images, k=5)
        values = torch.linspace(-3, 3, 9)
        with evaluating(model):
            z = model.encode(test_images[:1].to(device))[0][0]
        rows = [traverse(model, z, int(d), values) for d in dims]
        image_rows(rows, [f"dim {int(d)}, KL {k:.2f}" for d, k in zip(dims, kl)],
                   col_labels=[f"{v:.1f}" for v in values.tolist()], title="Traversals of the most active dimensions")
        plt.show()
        '''),
        Markdown(r"""
        **Attribute directions.** Directions for `Smiling` and `Eyeglasses` from the test faces, added to the codes
        of two faces with weights from -2 to 2 (0 is the face's own reconstruction).
        """),
        Given("figure_attributes", embed=(apply_direction,), code='''
        alphas = [-2.0, -1.0, 0.0, 1.0, 2.0]
        rows, labels = [], []
        for name in ["Smiling", "Eyeglasses"]:
            has = test_attributes[:, attribute_names.index(name)] == 1
            direction = attribute_direction(model, test_images[has], test_images[~has])
            print(f"{name}: {int(has.sum())} faces with it, {int((~has).sum())} without; |direction| = {direction.norm():.2f}")
            for index in (2, 3):
                rows.append(apply_direction(model, test_images[index], direction, alphas))
                labels.append(f"{name}, face {index}")
        image_rows(rows, labels, col_labels=[f"{a:+.0f}" for a in alphas], title="mu(x) + alpha * direction")
        plt.show()
        '''),

        Markdown(rf"""
        ## 9. Analysis ({ANALYSIS_POINTS} points, graded by hand)

        In about 250-400 words, describe **how the decoded faces vary across regions of the latent space**, using
        the four figures above (refer to what you see in them):

        1. near the centre of the prior versus far from it (temperature);
        2. close to the code of a real face versus further away (neighbourhoods);
        3. along single dimensions: what do the most active dimensions control, and are they disentangled?
        4. along attribute directions: does adding the direction change only the attribute?

        End with what these observations say about the structure the KL term gives the latent space.
        """),
        Manual("analysis", ANALYSIS_POINTS, answer="""
        **Temperature.** At T = 0.5 the samples are smooth, frontal, average-looking faces with similar skin
        tones and little background: the centre of the prior decodes to a "mean face". As T grows, faces gain
        variety -- hair colour, pose, lighting, background -- but also artefacts: at T = 1.2 some samples are
        distorted, with smeared features or unusual colours, because codes far from the centre are rare under the
        aggregate posterior, so the decoder has seen few of them.

        **Neighbourhoods.** At scale 0.25 the samples are the reconstruction of the face with small changes in
        lighting and expression; at 0.5 identity cues (hair, pose) start to vary; at 1.0 to 2.0 the samples look
        like different people and finally like generic prior samples. Small moves in latent space make small
        changes in the image: the decoder is smooth around the data.

        **Traversals.** The most active dimensions control global factors: one mostly changes the background or
        overall brightness, one the hair colour (dark to blond), one the head's left-right rotation, one the skin
        tone or lighting direction. They are only partly disentangled: sweeping the hair dimension also changes
        the background and the face shape. Dimensions with near-zero KL (not shown) change nothing: the model uses
        only a fraction of its 128 dimensions.

        **Attribute directions.** Adding the smiling direction opens the mouth and raises the cheeks, and
        subtracting it closes the mouth; the eyeglasses direction darkens the eye region into glasses-like
        shapes, less convincingly because glasses are rarer. Both directions also change correlated attributes
        (smiling faces in the data are more often female with make-up, so the face becomes more feminine), and
        large weights (±2) degrade the image.

        **Structure.** The KL term pulls every posterior towards N(0, I) and keeps its variance from collapsing, so
        the codes of the training faces fill a ball around the origin without holes. Hence nearby codes decode to
        similar faces, interpolating and moving along directions give plausible faces, and the typical region
        (T around 0.7-1) gives the best samples. The KL penalty also switches off dimensions that do not pay for
        their cost, which is why only a few dimensions are active.
        """, mark_scheme="""
        8 points, two per part 1-4; the closing remark on the KL term is part of part 4's second point.
        For each of parts 1-4:
        * 1 point: an accurate description of what the student's figure shows, referring to it (rows, scales,
          dimensions, alphas). Descriptions that contradict the figure: 0.
        * 1 point: a correct interpretation:
          1. temperature: the centre of the prior decodes to average, smooth faces; larger T gives diversity and
             artefacts because those codes are rare under the aggregate posterior / seen little in training;
          2. neighbourhoods: small scales keep the identity (the decoder is smooth / continuous around the data),
             larger scales drift to other faces / generic samples;
          3. traversals: active dimensions control global factors (pose, lighting, hair, background), they are
             entangled to some degree, and low-KL dimensions are inactive (posterior collapse of those dimensions);
          4. attribute directions: the attribute changes, but correlated attributes change too (dataset
             correlations, entanglement), and large alphas leave the data region; PLUS the KL term's role (posteriors
             pulled to N(0, I), no holes, so the space is smooth and directions/interpolations decode to faces).
             Without the KL remark: at most 0.5 for this point.
        Generic statements that could be written without looking at the figures get at most half the points of a
        part. Length beyond 400 words is not rewarded.
        """),

        Markdown(r"""
        ## Before you submit

        *Kernel -> Restart & Run All*, check that every test cell printed "the visible tests passed" and that the
        four figures appear. Submit this notebook with `conv_vae_celeba64.pt`.
        """, name="submit"),
    ]
