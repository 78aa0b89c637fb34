"""interpolation: straight and great-circle paths through the latent space of a trained CIFAR-10 VAE."""
from builder.cells import Answer, Editable, Given, Manual, Markdown, Setup, Test
from builder.common import DATA_IMPORTS, SETUP_CODE, SETUP_IMPORTS, STAND_IN, STDERR_NOTE, points
from solutions.interpolate import interpolate, lerp, slerp

ASSIGNMENT = "interpolation"
FIGURE_POINTS = 4
DISCUSSION_POINTS = 4


def cells() -> list:
    return [
        Markdown(rf"""
        # Assignment 3.3: walking through the latent space

        A VAE's decoder turns any code $z$ into an image. If the latent space is smooth, the images along a path
        from the code of one picture to the code of another change gradually. You will write two kinds of path --
        straight lines and great circles -- and look at what a trained CIFAR-10 VAE decodes along them.

        ## The contract

        | you write | inputs | returns |
        |---|---|---|
        | `lerp(z1, z2, steps)` | codes (D,), `steps` >= 2 | (steps, D): $z(t) = (1 - t)\, z_1 + t\, z_2$ for $t$ evenly spaced in $[0, 1]$ |
        | `slerp(z1, z2, steps)` | codes (D,), `steps` >= 2 | (steps, D): the great-circle path (part 2) |
        | `interpolate(model, x1, x2, steps=10, method="linear")` | two images (C, H, W) in [0, 1] | (steps, C, H, W): the decoded path between their codes |

        In every path the first row is the start (`z1`, or the decoded code of `x1`) and the last row is the end.

        ## How this notebook is graded

        * Each exercise is followed by a read-only test cell: visible asserts check shapes and basics, hidden
          tests check values and edge cases when your notebook is graded.
        * The figure ({FIGURE_POINTS} points) and the discussion ({DISCUSSION_POINTS} points) are graded by hand.
        * {STDERR_NOTE}

        **The model.** You need no training here: the notebook uses your conv VAE from `conv_vae` when you copy
        `conv_vae_cifar10.pt` into this folder and paste your `ConvVAE` class (part 3); otherwise it loads the small
        conv VAE trained on CIFAR-10 that ships with the course. Submit the checkpoint with the notebook if you
        use yours. Everything here runs in a minute on a laptop CPU.
        """, name="intro"),
        Setup(SETUP_IMPORTS + DATA_IMPORTS + '''
import math

import matplotlib.pyplot as plt

from course_utils.data import cifar10
from course_utils.plotting import image_rows
from course_utils.pretrained import load_pretrained_vae
''', SETUP_CODE),

        Markdown(rf"""
        ## 1. Linear interpolation ({points(ASSIGNMENT, "lerp")})

        $$z(t) = (1 - t)\, z_1 + t\, z_2, \qquad t = 0, \tfrac{{1}}{{steps - 1}}, \dots, 1.$$

        Write `lerp(z1, z2, steps)` returning a (steps, D) tensor whose row $i$ is $z(t_i)$. No loop is needed:
        a column of $t$ values of shape (steps, 1) broadcasts against the (D,) codes. The helpers in the next cell check
        the inputs (and accept a (1, D) code as well); use them.
        """),
        Answer(lerp),
        Test("lerp", '''
        z1, z2 = torch.zeros(4), torch.ones(4)
        path = lerp(z1, z2, 5)
        assert isinstance(path, torch.Tensor) and path.shape == (5, 4), \\
            f"lerp returns (steps, D) = (5, 4), got {getattr(path, 'shape', type(path))}"
        assert torch.allclose(path[0], z1) and torch.allclose(path[-1], z2), "the first row is z1 and the last is z2"
        assert torch.allclose(path[:, 0], torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])), \\
            "t must be evenly spaced from 0 to 1 inclusive (torch.linspace(0, 1, steps))"
        print("lerp: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 2. Spherical interpolation ({points(ASSIGNMENT, "slerp")})

        In $D = 128$ dimensions, codes drawn from $\mathcal N(0, I)$ have length close to $\sqrt D \approx 11.3$:
        almost all of the prior's mass lies in a thin shell, not near the origin. The midpoint of a straight line
        between two such codes is much shorter (for orthogonal codes by a factor $1/\sqrt2$), so it lies where
        the decoder has hardly seen a code. The great-circle path (Shoemake, 1985) keeps the length instead:

        $$z(t) = \frac{{\sin((1 - t)\,\omega)}}{{\sin\omega}}\, z_1 + \frac{{\sin(t\,\omega)}}{{\sin\omega}}\, z_2,
          \qquad \cos\omega = \frac{{z_1 \cdot z_2}}{{\lVert z_1\rVert\, \lVert z_2\rVert}}.$$

        Write `slerp(z1, z2, steps)`. When $\sin\omega$ is (nearly) zero -- parallel or opposite codes -- or a code
        is (nearly) zero, the formula divides by zero: fall back to `lerp` there (the constants in the helper cell
        are thresholds for it). Rounding can push $\cos\omega$ slightly outside $[-1, 1]$, where `acos` is NaN:
        clamp it. The result must never contain NaN.
        """),
        Answer(slerp),
        Test("slerp", '''
        z1, z2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
        path = slerp(z1, z2, 3)
        assert isinstance(path, torch.Tensor) and path.shape == (3, 2), \\
            f"slerp returns (steps, D) = (3, 2), got {getattr(path, 'shape', type(path))}"
        assert torch.allclose(path[0], z1, atol=1e-6) and torch.allclose(path[-1], z2, atol=1e-6), \\
            "the first row is z1 and the last is z2"
        assert torch.allclose(path.norm(dim=1), torch.ones(3), atol=1e-5), \\
            "between two unit vectors the great circle stays on the unit circle: every row has norm 1"
        assert torch.allclose(path[1], torch.tensor([0.5 ** 0.5, 0.5 ** 0.5]), atol=1e-5), \\
            "halfway along a quarter circle is (cos 45 deg, sin 45 deg)"
        assert not torch.isnan(slerp(z1, 2 * z1, 4)).any(), "parallel codes (sin w = 0) must not give NaN: use lerp"
        print("slerp: the visible tests passed")
        '''),

        Markdown(r"""
        ## 3. The model

        Load a trained VAE. To use **your own** model from `conv_vae`: copy `conv_vae_cifar10.pt` into this
        folder and paste your `ConvVAE` class (and the `reparameterize` it calls) into the next cell. Otherwise
        leave the cell as it is, and the course's pretrained conv VAE is used. Either way `model` has
        `.latent_dim`, `encode(x) -> (mu, logvar)` and `decode(z)`. It stays on the CPU: decoding a few dozen
        images is fast.
        """),
        Editable("my_model", '''
        # Optional: paste your ConvVAE class and the reparameterize function it calls here.
        '''),
        Given("load_model", code='''
        MY_CHECKPOINT = Path("conv_vae_cifar10.pt")
        if MY_CHECKPOINT.exists() and "ConvVAE" in globals():
            model = ConvVAE()
            model.load_state_dict(torch.load(MY_CHECKPOINT, map_location="cpu"))
            print(f"your conv VAE from {MY_CHECKPOINT}, latent_dim {model.latent_dim}")
        else:
            model = load_pretrained_vae("cifar10")
            print(f"the course's pretrained conv VAE, latent_dim {model.latent_dim}")
        model.eval()
        '''),

        Markdown(r"""
        The test images, 32x32 from the CIFAR-10 test split (the course's `data/` folder; it is downloaded if
        `conv_vae` has not done so yet).
        """),
        Given("data", code='''
        if AUTOGRADING:  # no dataset while grading: smooth random pictures stand in for CIFAR-10
            test_split = stand_in_split(40, 32, torch.arange(40) % 10, classes=[f"class {i}" for i in range(10)])
        else:
            cifar10(DATA_ROOT, "test", download=True)
            test_split = load_cached("cifar10", DATA_ROOT, "test")
        test_images = test_split.images.float() / 255  # (N, 3, 32, 32) in [0, 1]
        labels, classes = test_split.targets, test_split.classes
        print(f"{len(test_images):,} test images; classes: {', '.join(classes)}")
        ''', intro=STAND_IN),

        Markdown(rf"""
        ## 4. Interpolating between images ({points(ASSIGNMENT, "interpolate")})

        Write `interpolate(model, x1, x2, steps=10, method="linear")`:

        1. encode both images (C, H, W) in one batch and keep the posterior **means** `mu` -- no sampling, so the
           result is deterministic;
        2. build the path between the two means with `lerp` (`method="linear"`) or `slerp` (`method="slerp"`);
        3. decode it: (steps, C, H, W), on the model's device.

        Run the model in eval mode and without autograd, and leave its training mode as it was: the given helper
        `evaluating(model)` does all three, as a `with` block. `latent_path` picks the path by `method`.
        """),
        Answer(interpolate),
        Test("interpolate", '''
        x1, x2 = test_images[0], test_images[1]
        frames = interpolate(model, x1, x2, steps=6)
        assert isinstance(frames, torch.Tensor) and frames.shape == (6, *x1.shape), \\
            f"interpolate returns (steps, C, H, W) = (6, 3, 32, 32), got {getattr(frames, 'shape', type(frames))}"
        assert torch.equal(frames, interpolate(model, x1, x2, steps=6)), \\
            "interpolate must be deterministic: decode the posterior means, do not sample"
        with torch.no_grad():
            ends = model.decode(model.encode(torch.stack([x1, x2]))[0])
        assert torch.allclose(frames[0], ends[0], atol=1e-5) and torch.allclose(frames[-1], ends[1], atol=1e-5), \\
            "the first frame decodes mu(x1) and the last decodes mu(x2)"
        assert interpolate(model, x1, x2, steps=6, method="slerp").shape == frames.shape, "method='slerp' works too"
        print("interpolate: the visible tests passed")
        '''),

        Markdown(rf"""
        ## 5. A grid of interpolations ({FIGURE_POINTS} points, graded by hand)

        Make a figure of interpolations with 10 steps for **at least four pairs of test images**: at least two
        pairs from the **same class** and two pairs from **different classes** (`labels` holds each test image's
        class index, `classes` the names). For each pair show the **linear** and the **slerp** path, one row each,
        labelled with the classes and the method. `image_rows(rows, row_labels, title=..., ax=...)` draws labelled
        rows.
        """),
        Manual("interpolation_figure", FIGURE_POINTS, code=True, answer='''
        def first_index(label, after=0):
            return int(torch.nonzero(labels == label)[after])

        pairs = [(first_index(0), first_index(0, 1)), (first_index(1), first_index(1, 1)),  # same class
                 (first_index(0), first_index(8)), (first_index(3), first_index(7))]  # different classes
        rows, row_labels = [], []
        for i, j in pairs:
            for method in ("linear", "slerp"):
                rows.append(interpolate(model, test_images[i], test_images[j], steps=10, method=method))
                row_labels.append(f"{classes[labels[i]]} -> {classes[labels[j]]}, {method}")
        image_rows(rows, row_labels, title="Interpolations between test images: lerp and slerp rows per pair")
        plt.show()
        ''', mark_scheme="""
        4 points:
        1. At least four pairs of real test images, with at least two same-class and two different-class pairs
           (checked via labels/classes, not guessed); 0.5 if the pairs exist but the class condition is not met.
        2. For every pair both a linear and a slerp row, made with the student's interpolate (posterior means,
           10 steps); first and last frames are the reconstructions of the two images.
        3. Rows labelled with the classes (or the images) and the method, so that lerp and slerp can be compared
           pair by pair; a title.
        4. Displayed correctly: images in [0, 1], channel order right, one figure, no error in the grading run.
        Half a point off an item for a minor slip.
        """),

        Markdown(r"""
        The lengths of the codes along both paths between the first two test images, for your discussion
        (codes drawn from the prior have lengths near $\sqrt{D}$):
        """),
        Given("path_norms", code='''
        with torch.no_grad():
            mu, _ = model.encode(test_images[:2])
        print(f"sqrt(D) = {math.sqrt(model.latent_dim):.2f}")
        for method, path in [("lerp", lerp(mu[0], mu[1], 7)), ("slerp", slerp(mu[0], mu[1], 7))]:
            print(f"{method:>5}: |z| along the path = " + "  ".join(f"{n:.2f}" for n in path.norm(dim=1).tolist()))
        '''),

        Markdown(rf"""
        ## 6. Discussion ({DISCUSSION_POINTS} points, graded by hand)

        About 100-200 words, based on your figure and the numbers above: are the intermediate images plausible
        pictures or blends? Where do linear and spherical paths differ, and why (relate it to the length of the
        codes)? How do same-class and different-class pairs differ? What does this say about how smooth the latent
        space is, and which term of the VAE loss is responsible?
        """),
        Manual("discussion", DISCUSSION_POINTS, answer="""
        The frames change gradually from one image to the other: there are no jumps, and each frame looks like a
        blurry but plausible picture rather than two images pasted on top of each other. The colours and the
        rough layout (background, object position) morph first; object identity is vague in the middle frames.

        Linear and spherical paths are almost identical near the ends and differ most in the middle. The printed
        norms show why: along the straight line the length of the code dips in the middle (the midpoint of two
        nearly orthogonal codes is shorter by about 1/sqrt(2)), so the middle frames are decoded from an atypical,
        low-norm code and come out greyer and more washed out; slerp keeps the length (for codes of similar
        length), so its middle frames keep contrast. Posterior means are shorter than prior samples, so the
        effect is smaller than for prior codes.

        Same-class pairs give more convincing in-between images (e.g. one car morphing into another) than
        different-class pairs, whose middle frames are ambiguous blobs: codes of one class lie near each other,
        and the path between two classes crosses regions that no training image maps to.

        The smoothness comes from the KL term: it pulls every posterior towards N(0, I) and keeps their variances
        from collapsing, so nearby codes must decode to similar images and the space between training codes is
        filled, unlike in a plain autoencoder.
        """, mark_scheme="""
        4 points, one per item:
        1. Describes what the figure shows about intermediate frames (gradual change, plausible but blurry
           images vs. cross-fades), consistent with the student's own figure.
        2. Lerp vs slerp: where they differ (the middle of the path) AND why: the norm of the code dips along the
           straight line (typical codes have norm about sqrt(D)), which the printed norms show; slerp keeps it.
           Only one of "where" and "why": 0.5.
        3. Same-class vs different-class pairs compared, with a reason (codes of a class are close; paths between
           classes cross regions without training codes).
        4. Smoothness attributed to the KL term (posteriors pulled to the prior, variances kept from collapsing,
           so nearby codes decode to similar images / no holes). Naming the KL without the mechanism: 0.5.
        """),
    ]
