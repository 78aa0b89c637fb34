"""theory: four short written answers on the VAE objective, graded by hand against mark schemes."""
import textwrap

from builder.cells import Manual, Markdown

ASSIGNMENT = "theory"
POINTS = 5


def question(number: int, title: str, prompt: str, answer: str, mark_scheme: str) -> list:
    return [
        Markdown(f"## Q{number}. {title} ({POINTS} points)\n\n{textwrap.dedent(prompt).strip()}", name=f"q{number}"),
        Manual(f"q{number}_answer", POINTS, answer=answer, mark_scheme=mark_scheme),
    ]


def cells() -> list:
    return [
        Markdown(rf"""
        # Assignment 3.1: the theory of variational autoencoders

        Four questions, {POINTS} points each, graded by hand. Answer each in the Markdown cell below it (double-click
        the cell to edit it; `$...$` typesets maths). About 150-250 words per answer is enough: a precise argument,
        with an equation where it helps, scores better than a long one. Where a question asks *why*, explain the
        mechanism -- what would go wrong without it.

        Notation: encoder $q_\phi(z \mid x) = \mathcal N(\mu_\phi(x), \mathrm{{diag}}\,\sigma^2_\phi(x))$,
        decoder $p_\theta(x \mid z)$, prior $p(z) = \mathcal N(0, I)$, and the evidence lower bound

        $$\log p_\theta(x) \;\ge\; \mathrm{{ELBO}}(x) = \mathbb E_{{q_\phi(z \mid x)}}[\log p_\theta(x \mid z)]
          - \mathrm{{KL}}\big(q_\phi(z \mid x) \,\|\, p(z)\big).$$

        The book's theory chapters cover everything asked here; its figures (a $\beta$ sweep, an autoencoder
        without the KL term, 2-D latent maps) make good evidence for your answers.
        """, name="intro"),
        *question(1, "Why the KL divergence term matters", r"""
        Why is the KL divergence term important in the VAE loss? Explain what it does to the encoder's
        posteriors and what happens when it is removed ($\beta = 0$, a plain autoencoder with noise) or weighted
        much more heavily ($\beta \gg 1$).
        """, answer=r"""
        The loss is $-\mathrm{ELBO}$: reconstruction error plus $\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))$. The KL
        term is what makes the model a *generative* model and not only a compressor:

        * **It is part of a bound on the likelihood.** $\log p(x) = \mathrm{ELBO}(x) + \mathrm{KL}(q(z \mid x) \,\|\,
          p(z \mid x))$, so only reconstruction *and* KL together form a lower bound on $\log p(x)$; dropping the KL
          optimises something that is not a likelihood.
        * **It ties the posteriors to the prior we sample from.** Generation decodes $z \sim \mathcal N(0, I)$. The KL
          term pulls every $q(z \mid x)$ towards $\mathcal N(0, I)$ (means towards 0, variances towards 1), so the
          codes of the training data cover the region the prior samples from.
        * **It limits the information in $z$.** Averaged over the data it bounds the mutual information between
          $x$ and $z$ (rate), so the code keeps what matters most for reconstruction.

        Without it ($\beta = 0$) the encoder shrinks the variances to zero and spreads the means anywhere: the
        model becomes a deterministic autoencoder, reconstructions are sharp, but prior samples land in empty
        regions and decode to garbage. With $\beta \gg 1$ the posteriors collapse onto the prior, $z$ carries little
        information (posterior collapse: many dimensions unused), and reconstructions become blurry averages. The
        KL weight trades reconstruction against the regularity of the latent space (rate vs distortion).
        """, mark_scheme=r"""
        5 points:
        * 1: the KL term is part of the negative ELBO, i.e. needed for a bound on log p(x) (or: it is the
          "regulariser" of the VAE objective, with the correct direction KL(q(z|x) || p(z))).
        * 1: it pulls each posterior towards the prior N(0, I) (means to 0, variances to 1).
        * 1: consequence for generation: codes of the data cover the region we sample from, so decoded prior samples
          are meaningful (or: the aggregate posterior matches the prior).
        * 1: beta = 0 / no KL: variances shrink, codes spread out / holes, good reconstructions but bad samples
          (plain autoencoder).
        * 1: beta >> 1: posterior collapse / z ignored / blurry reconstructions; i.e. the trade-off between
          reconstruction and regularity (rate-distortion).
        Half points for an item stated without the mechanism (e.g. "KL regularises" with no explanation of what to
        what). Stating the KL direction wrongly, or that the KL term makes the reconstructions better: -0.5 each.
        """),
        *question(2, "The reparameterization trick", r"""
        How does the reparameterization trick enable backpropagation through the stochastic layer? Say why the
        gradient of $\mathbb E_{q_\phi(z \mid x)}[f(z)]$ with respect to $\phi$ is a problem, how the trick
        rewrites the sample, and what the alternative (score-function / REINFORCE) estimator would cost.
        """, answer=r"""
        The reconstruction term is an expectation over a distribution that depends on the encoder's parameters:
        $\nabla_\phi \mathbb E_{q_\phi(z \mid x)}[f(z)]$. Sampling $z \sim q_\phi$ is not a differentiable operation:
        a sampled number has no derivative with respect to the $\mu$ and $\sigma$ it was drawn with, and
        autograd cannot move the gradient inside the expectation because the *distribution* depends on $\phi$.

        The trick moves the randomness into an input that does not depend on $\phi$:
        $$\varepsilon \sim \mathcal N(0, I), \qquad z = g_\phi(\varepsilon, x) = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon.$$
        Then $\mathbb E_{q_\phi}[f(z)] = \mathbb E_{\varepsilon}[f(\mu_\phi + \sigma_\phi \odot \varepsilon)]$, the
        expectation is over a fixed distribution, and the gradient can be taken inside:
        $\nabla_\phi \mathbb E_\varepsilon[f(g_\phi(\varepsilon))] = \mathbb E_\varepsilon[\nabla_\phi f(g_\phi(\varepsilon))]$.
        A one-sample Monte-Carlo estimate of it is simply backpropagation through $z = \mu + \sigma\varepsilon$:
        $\partial z / \partial \mu = 1$ and $\partial z / \partial \sigma = \varepsilon$, with $\varepsilon$ treated as
        a constant. Encoder and decoder are then trained jointly with ordinary SGD.

        The alternative, the score-function estimator
        $\mathbb E_q[f(z) \nabla_\phi \log q_\phi(z \mid x)]$, needs no differentiable $f$ but has a much higher
        variance (it uses only the value of $f$, not its slope), so it needs many samples or control variates. The
        reparameterized gradient uses the derivative of $f$ and has low variance with a single sample. The trick
        needs a continuous $z$ whose sampler can be written as a differentiable transformation of fixed noise.
        """, mark_scheme=r"""
        5 points:
        * 1: the problem: the expectation's distribution depends on phi; sampling is not differentiable w.r.t. mu,
          sigma, so gradients cannot flow back to the encoder through a sampled z.
        * 1: the rewrite z = mu + sigma * eps with eps ~ N(0, I) independent of phi (sigma = exp(logvar / 2)).
        * 1: why it works: the expectation is now over a fixed distribution, so the gradient moves inside it;
          dz/dmu = 1, dz/dsigma = eps (eps a constant), ordinary backprop through the sample.
        * 1: comparison with the score-function / REINFORCE estimator: unbiased too, but high variance (uses f's
          value only); the reparameterized estimator has low variance with one sample.
        * 1: precision: a one-sample Monte-Carlo estimate per data point, encoder and decoder trained jointly by
          SGD; or the limitation (needs continuous, reparameterizable distributions).
        Answers that only restate the formula z = mu + sigma * eps without saying why gradients now flow: at most 2.
        """),
        *question(3, "A probabilistic latent space", r"""
        Why does a VAE encode each image as a distribution $q_\phi(z \mid x)$ rather than as a single fixed code
        (as a plain autoencoder does)? Discuss what the noise does during training, what it means for the decoder
        and for generating new images.
        """, answer=r"""
        A plain autoencoder maps each image to one point. Nothing constrains what the decoder does between and
        around those points, and nothing says where the points are, so there is no distribution to sample new codes
        from: decoding a random code usually gives garbage, and nearby codes can decode to unrelated images.

        A VAE is a latent-variable model $p_\theta(x) = \int p_\theta(x \mid z) p(z)\,dz$; the encoder approximates
        the posterior $p(z \mid x)$, which is a distribution because many codes are compatible with an image. Making
        the code probabilistic has three effects:

        * **The decoder must handle regions, not points.** During training it sees a different
          $z = \mu + \sigma\varepsilon$ each time, so every code in a neighbourhood of size $\sigma$ must decode to
          (something like) the same image. The decoder becomes smooth, and the posteriors of different images
          overlap, so the space between them is filled with plausible mixtures.
        * **Uncertainty is represented.** $\sigma(x)$ says how precisely the code is determined; dimensions the image
          does not determine get $\sigma \approx 1$ and carry no information.
        * **Generation is principled.** With the KL term the aggregate posterior covers the prior, so $z \sim p(z)$
          falls where the decoder was trained, and $p_\theta(x)$ is a proper density whose lower bound (ELBO) we can
          evaluate and compare between models.

        The price is blur: noise in $z$ plus a factorised likelihood make the decoder predict averages.
        """, mark_scheme=r"""
        5 points:
        * 1: what goes wrong with fixed codes: no density over codes to sample from, holes/irregular regions between
          training codes, random codes decode to garbage.
        * 1: the model view: the VAE is a latent-variable model; q(z|x) approximates the true posterior p(z|x),
          which is a distribution (many z explain x).
        * 1: effect of the noise in training: the decoder must reconstruct from any z in a neighbourhood, so it
          becomes smooth / nearby codes decode to similar images; posteriors overlap and fill the space.
        * 1: generation: with the KL term, sampling z ~ p(z) lands where the decoder was trained; the model defines
          a likelihood (bounded by the ELBO) that can be evaluated.
        * 1: one further precise point: sigma encodes uncertainty / unused dimensions, or the cost (blurrier
          outputs, noise limits the information per code).
        "It adds randomness so the model can generate" without the mechanism: at most 1 point.
        """),
        *question(4, "KL divergence and a smooth latent space", r"""
        What role does the KL divergence play in making the latent space smooth (nearby codes decode to similar
        images; paths between codes decode to plausible images)? Use the closed form of the Gaussian KL to say what
        it rewards and penalises, and relate it to interpolation.
        """, answer=r"""
        For a diagonal Gaussian posterior the KL term is
        $$\mathrm{KL} = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\big).$$
        The $\mu_j^2$ term pulls the means towards the origin, so the codes of all images share one compact region
        instead of being spread far apart. The $\sigma_j^2 - \log\sigma_j^2$ term is minimal at $\sigma_j = 1$ and grows
        without bound as $\sigma_j \to 0$, so the posteriors cannot shrink to points: each image occupies a region
        of latent space.

        Together, compact means and non-vanishing variances make the posteriors of different images **overlap**.
        Because the decoder is trained on samples from all of them, every code in the occupied region is the
        training input for some image, and codes in overlapping parts must decode to something between the images
        involved. So the decoder is continuous across the region, nearby codes give similar images, and there are
        no holes -- unlike a plain autoencoder, whose codes can sit far apart with untrained space between them.

        For interpolation this means that a path from $\mu(x_1)$ to $\mu(x_2)$ stays inside the occupied region and
        every frame decodes to a plausible image that changes gradually. Because the prior is an isotropic
        Gaussian, the typical codes lie near a shell of radius $\approx \sqrt{D}$, which is why spherical
        interpolation keeps frames more typical than a straight line through the low-norm centre.

        Too much KL ($\beta \gg 1$) makes the space smooth but uninformative (posterior collapse); too little leaves
        holes. The balance gives a space that is both smooth and informative.
        """, mark_scheme=r"""
        5 points:
        * 1: the closed form (or its terms) and what each part does: mu^2 pulls the means to the origin; the
          sigma^2 - log sigma^2 part keeps the variances near 1 / penalises sigma -> 0.
        * 1: consequence: posteriors are compact AND have volume, so they overlap; no isolated points.
        * 1: mechanism of smoothness: the decoder is trained on samples from overlapping regions, so nearby codes
          must decode to similar images; no holes (contrast with a plain autoencoder).
        * 1: interpolation: the path between two codes stays in the trained region, frames change gradually and
          are plausible (optionally: slerp vs lerp and the sqrt(D) shell).
        * 1: the trade-off: too strong a KL gives posterior collapse / uninformative codes, too weak leaves holes.
        Listing "KL makes it smooth" without the overlap/variance mechanism: at most 2 points.
        """),
        Markdown(r"""
        ## Before you submit

        Check that each of the four answer cells holds your answer (and renders: run it with Shift+Enter).
        """, name="submit"),
    ]
