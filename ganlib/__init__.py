"""ganlib: the shared code of the lecture notes on the mathematics of GANs.

Glossary: one name per idea, in every module and every chapter
----------------------------------------------------------------

Players and their order
    ``D`` is the discriminator (it outputs a logit) or the critic (it outputs a real value);
    ``G`` is the generator. Wherever both appear, D comes first: ``(D, G, opt_d, opt_g)``.

Scores
    ``d_real`` = D(x), D's raw output on data x ~ P (a logit l(x) with D(x) = sigmoid(l(x)),
    a critic value T(x), or the f-GAN's raw output V(x) before its activation g_f);
    ``d_fake`` = D(G(z)), the same on generated samples. Shapes (B,) or (B, 1); every loss
    checks them with :func:`ganlib.checks.scores`.

Losses
    Every loss is a pure function of scores that returns the quantity its player
    **minimizes** (so every optimizer calls ``loss.backward()``):

    * ``<family>_d_loss(d_real, d_fake)``: D's loss (``gan``, ``lsgan``, ``wgan``; the f-GAN
      pair ``fdiv.fgan_d_loss(name, d_real, d_fake)``);
    * ``<family>_g_loss(d_fake)``: G's loss (``minimax``, ``nonsaturating``, ``lsgan``,
      ``wgan``; ``fdiv.fgan_g_loss(name, d_fake, kind)``).

    :func:`ganlib.losses.get_loss` returns a :class:`ganlib.losses.GANLoss` pair by name.

Constraints on D
    * a **penalty** is a callable ``penalty(D, real, fake) -> scalar`` *added to D's loss*
      (``wgan.gradient_penalty``, ``pggan.drift_penalty``); G's loss never contains it;
    * a **projection** is a callable ``project(D)`` applied after each D update, in place
      (``wgan.clip_weights``: weight clipping projects the weights onto a box).

    "d_loss" always means D's whole objective, the penalty included.

Steps
    ``train.d_step(D, G, opt_d, real, z, d_loss, penalty=None, project=None)`` and
    ``train.g_step(D, G, opt_g, z, g_loss)`` are the two updates; ``train.train`` loops over
    them, and the chapters and the benchmarks call the same two functions (for one model or
    for S seeds batched as one, see :mod:`ganlib.batched`).

Look-up by name
    ``get_<thing>(name)`` with a ValueError that lists the choices
    (:func:`ganlib.checks.lookup`): ``losses.get_loss``, ``fdiv.get_divergence``,
    ``wgan.get_critic_config``, ``cyclegan.get_transform``.

Where each idea lives
    ``divergences``  KL, JS and D_f between distributions: closed forms, quadrature,
                     discrete and empirical measures
    ``transport``    Wasserstein distances: exact W1 (optimal transport), W1 on the line,
                     W2 between Gaussians, sliced Wasserstein
    ``distances``    the kernel distance MMD
    ``metrics``      sample quality: 2D mode coverage (``nearest_mode``, ``mode_stats``) and
                     image metrics (Frechet distance, classes, precision and recall)
    ``losses``       GAN, LSGAN and WGAN losses;  ``fdiv``  f-divergences and f-GAN losses
    ``wgan``         Lipschitz constraints: clipping, gradient penalty, Lipschitz estimate
    ``checks``       input validation, shared by every public function

Conventions
    KL(P || Q) = E_P[log(p / q)], natural logarithms (nats); D_f(P || Q) = E_Q[f(p / q)].
    Tensors are float32 unless a docstring says float64; images are (B, C, H, W) in [-1, 1].
"""
