"""Tests for ganlib.dcgan: fractional-strided convolution, shapes, guidelines, fast-path parity."""
import pytest
import torch
from torch import nn

from ganlib import dcgan, train


@pytest.mark.parametrize("s,p,k,op", [(1, 0, 3, 0), (2, 1, 4, 0), (2, 0, 3, 1), (3, 1, 3, 2),
                                      (2, 2, 5, 1)])
def test_zero_insertion_equals_conv_transpose(s, p, k, op):
    torch.manual_seed(0)
    for nd, cls in ((1, nn.ConvTranspose1d), (2, nn.ConvTranspose2d)):
        layer = cls(3, 2, k, stride=s, padding=p, output_padding=op, bias=True).double()
        x = torch.randn(2, 3, *([5] * nd), dtype=torch.float64)
        want = layer(x)
        got = dcgan.conv_transpose_by_zero_insertion(x, layer.weight, s, p, op, layer.bias)
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-12)
        o = dcgan.conv_transpose_output_size(5, k, s, p, op)
        assert want.shape[2:] == (o,) * nd
        # an unflipped kernel gives a different answer (the flip matters)
        wrong = dcgan.conv_transpose_by_zero_insertion(x, layer.weight.flip(2), s, p, op, layer.bias)
        assert not torch.allclose(wrong, want, atol=1e-6)


def test_zero_insert_1d_example():
    x = torch.tensor([[[1.0, 2.0, 3.0]]])
    assert dcgan.zero_insert(x, 2).tolist() == [[[1.0, 0.0, 2.0, 0.0, 3.0]]]
    assert dcgan.zero_insert(x, 1).tolist() == x.tolist()


def test_transpose_is_adjoint_of_strided_conv():
    torch.manual_seed(1)
    w = torch.randn(4, 3, 4, 4, dtype=torch.float64)       # Conv2d (C_out=4, C_in=3, k, k)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    y = torch.randn(2, 4, 4, 4, dtype=torch.float64)
    cx = torch.nn.functional.conv2d(x, w, stride=2, padding=1)
    cty = torch.nn.functional.conv_transpose2d(y, w, stride=2, padding=1)
    assert cx.shape == y.shape and cty.shape == x.shape
    assert torch.allclose((cx * y).sum(), (x * cty).sum(), rtol=1e-10)


def test_output_size_formulas():
    assert dcgan.conv_output_size(64, 4, 2, 1) == 32
    assert dcgan.conv_output_size(4, 4, 1, 0) == 1
    assert dcgan.conv_output_size(7, 3, 2, 1) == 4            # floor((7 + 2 - 3) / 2) + 1
    assert dcgan.conv_transpose_output_size(1, 4, 1, 0) == 4
    assert dcgan.conv_transpose_output_size(4, 4, 2, 1) == 8
    for i in range(1, 9):    # transposed size inverts the strided size when it is exact
        assert dcgan.conv_output_size(dcgan.conv_transpose_output_size(i, 4, 2, 1), 4, 2, 1) == i
    with pytest.raises(ValueError, match="output_padding"):
        dcgan.conv_transpose_output_size(4, 4, 2, 1, output_padding=2)
    with pytest.raises(ValueError, match="kernel"):
        dcgan.conv_output_size(2, 5)


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_networks_shapes_and_guidelines(size):
    cfg = dcgan.DCGANConfig(size=size, channels=3 if size == 64 else 1, nz=8, ngf=4, ndf=4)
    D, G = dcgan.dcgan_pair(cfg)
    assert isinstance(D, dcgan.DCGANDiscriminator) and isinstance(G, dcgan.DCGANGenerator)
    z = torch.randn(5, 8)
    x = G(z)
    assert x.shape == (5, cfg.channels, size, size)
    assert x.abs().max() <= 1.0
    assert D(x).shape == (5,)
    mods = list(G.modules()) + list(D.modules())
    assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in mods)
    g_layers, d_layers = list(G.net), list(D.net)
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)
    assert isinstance(d_layers[1], nn.LeakyReLU)           # no batchnorm after D's input conv
    assert not any(isinstance(m, nn.ReLU) for m in D.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in G.modules())
    n_bn = cfg.n_resample - 1
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == n_bn
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == n_bn + 1


def test_pytorch_examples_configuration():
    D, G = dcgan.dcgan_pair(dcgan.DCGANConfig(size=64, channels=3, nz=100, ngf=64, ndf=64))
    n = lambda m: sum(p.numel() for p in m.parameters())
    # the parameter counts of pytorch/examples' dcgan (netG 3,576,704; netD 2,765,568)
    assert n(G) == 3_576_704 and n(D) == 2_765_568


def test_bad_config():
    with pytest.raises(ValueError, match="power of two"):
        dcgan.DCGANConfig(size=24)
    with pytest.raises(ValueError, match="nz"):
        dcgan.DCGANConfig(nz=0)
    D, G = dcgan.dcgan_pair(dcgan.DCGANConfig(size=8, nz=4, ngf=2, ndf=2))
    with pytest.raises(ValueError, match="z must have shape"):
        G(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="x must have shape"):
        D(torch.zeros(2, 1, 16, 16))


def _pair(seed=0):
    torch.manual_seed(seed)
    cfg = dcgan.DCGANConfig(size=16, nz=8, ngf=8, ndf=8)
    D, G = dcgan.dcgan_pair(cfg)
    return cfg, D, G, dcgan.adam(D.parameters()), dcgan.adam(G.parameters())


def test_dcgan_pair_order_keeps_the_seeded_networks():
    """(D, G) is returned D first, but G is still initialised first from the global RNG."""
    cfg = dcgan.DCGANConfig(size=8, nz=4, ngf=2, ndf=2)
    torch.manual_seed(3)
    G_ref, D_ref = dcgan.DCGANGenerator(cfg), dcgan.DCGANDiscriminator(cfg)
    dcgan.init_weights(G_ref), dcgan.init_weights(D_ref)
    torch.manual_seed(3)
    D, G = dcgan.dcgan_pair(cfg)
    for a, b in zip(list(D.parameters()) + list(G.parameters()),
                    list(D_ref.parameters()) + list(G_ref.parameters())):
        assert torch.equal(a, b)
    with pytest.raises(TypeError, match="DCGANConfig"):
        dcgan.dcgan_pair({"size": 8})


def test_fast_step_matches_plain_loop():
    data = torch.rand(50, 1, 16, 16) * 2 - 1
    cfg, D1, G1, od1, og1 = _pair()
    _, D2, G2, od2, og2 = _pair()
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    B, steps = 6, 4
    d_plain = []
    for _ in range(steps):                        # the chapter's plain loop
        real = data[torch.randint(len(data), (B,), generator=g1)]
        z_d = torch.randn(B, cfg.nz, generator=g1)
        z_g = torch.randn(B, cfg.nz, generator=g1)
        d_plain.append(train.d_step(D1, G1, od1, real, z_d).item())
        train.g_step(D1, G1, og1, z_g)
    fast = dcgan.FastGANStep(D2, G2, od2, og2, data, B, cfg.nz, generator=g2)
    assert not (fast.amp or fast.channels_last or fast.graph or fast.tf32)  # GPU-only, off on CPU
    buffers = [fast.real.data_ptr(), fast.z_d.data_ptr(), fast.idx.data_ptr()]
    for _ in range(steps):
        fast.step()
    assert [fast.real.data_ptr(), fast.z_d.data_ptr(), fast.idx.data_ptr()] == buffers
    assert fast.pending == steps and fast.steps == steps
    d_mean, _ = fast.pop_losses()
    assert d_mean == pytest.approx(sum(d_plain) / steps, rel=1e-5)
    assert fast.pending == 0
    for a, b in zip(list(G1.parameters()) + list(D1.parameters()),
                    list(G2.parameters()) + list(D2.parameters())):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)
    for a, b in zip(G1.buffers(), G2.buffers()):                   # batchnorm running stats
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    # and training moved the parameters (the comparison is not vacuous)
    _, _, G0, _, _ = _pair()
    assert not torch.allclose(next(G0.parameters()), next(G2.parameters()))
    assert all(p.requires_grad for p in D2.parameters())


def test_fast_step_rejects_gpu_features_on_cpu():
    cfg, D, G, od, og = _pair()
    data = torch.zeros(4, 1, 16, 16)
    for kw in ({"amp": True}, {"graph": True}, {"channels_last": True}, {"tf32": True}):
        with pytest.raises(ValueError, match=f"{next(iter(kw))}=True needs CUDA"):
            dcgan.FastGANStep(D, G, od, og, data, 2, cfg.nz, **kw)
    with pytest.raises(ValueError, match="data"):
        dcgan.FastGANStep(D, G, od, og, torch.zeros(4, 16), 2, cfg.nz)
    with pytest.raises(TypeError, match="G must be a torch.nn.Module"):
        dcgan.FastGANStep(D, lambda z: z, od, og, data, 2, cfg.nz)
    fast = dcgan.FastGANStep(D, G, od, og, data, 2, cfg.nz)
    with pytest.raises(ValueError, match="no steps"):
        fast.pop_losses()


def test_fast_step_rejects_generator_with_graph():
    """A captured graph draws from the default CUDA generator: a generator= cannot be honoured."""
    cfg, D, G, od, og = _pair()
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="graph=True .* generator"):
        dcgan.FastGANStep(D, G, od, og, torch.zeros(4, 1, 16, 16), 2, cfg.nz, generator=gen,
                          graph=True)
    # graph=None means "on CUDA unless a generator is given": never a silently ignored generator
    assert not dcgan.FastGANStep(D, G, od, og, torch.zeros(4, 1, 16, 16), 2, cfg.nz,
                                 generator=gen).graph


def test_fast_step_leaves_callers_state_alone():
    """On the CPU: torch.backends flags, the modules' layout and requires_grad flags (a layer
    the caller froze stays frozen) and the data tensor are as they were, before and after steps."""
    cfg, D, G, od, og = _pair()
    D.net[0].weight.requires_grad_(False)
    flags = lambda: (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,  # noqa: E731
                     torch.backends.cudnn.benchmark)
    saved = flags()
    layout = lambda: [(p.stride(), p.requires_grad) for m in (D, G) for p in m.parameters()]  # noqa: E731
    before = layout()
    data = torch.rand(8, 1, 16, 16) * 2 - 1
    data_copy = data.clone()
    fast = dcgan.FastGANStep(D, G, od, og, data, 4, cfg.nz, generator=torch.Generator().manual_seed(0))
    assert flags() == saved and layout() == before
    for _ in range(2):
        fast.step()
    assert flags() == saved and layout() == before
    assert torch.equal(data, data_copy)
    assert not D.net[0].weight.requires_grad and D.net[0].weight.grad is None


def test_backend_flags_are_scoped_and_restored():
    """The TF32 switch of the fast step is on inside its scope only (checked without a GPU)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark)
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        with dcgan._backend_flags(True):
            assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
            assert torch.backends.cudnn.benchmark
        assert not (torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32
                    or torch.backends.cudnn.benchmark)
        with pytest.raises(RuntimeError):
            with dcgan._backend_flags(True):
                raise RuntimeError
        assert not torch.backends.cudnn.benchmark
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved


def test_to_channels_last():
    _, D, G, _, _ = _pair()
    convs = [m.weight for m in list(D.modules()) + list(G.modules())
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert not all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    dcgan.to_channels_last(D, G)
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    with pytest.raises(TypeError, match="Module"):
        dcgan.to_channels_last(D, "G")


def test_fast_step_stops_on_divergence():
    cfg, D, G, od, og = _pair()
    fast = dcgan.FastGANStep(D, G, od, og, torch.full((4, 1, 16, 16), float("nan")), 2, cfg.nz)
    fast.step()
    with pytest.raises(train.DivergenceError, match="step 1"):
        fast.pop_losses()


def test_benchmark_runs_tiny(capsys):
    from ganlib.bench import dcgan as bench
    rc = bench.main(["--device", "cpu", "--size", "8", "--channels", "1", "--nz", "4", "--ngf", "2",
                     "--ndf", "2", "--batch", "4", "--iters", "2", "--warmup", "1", "--json"])
    assert rc == 0
    import json
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out["results"]) == {"plain", "fast"}
    assert all(r["images_per_s"] > 0 for r in out["results"].values())
    assert bench.main(["--paths", "slow"]) == 2
    assert bench.main(["--size", "24", "--device", "cpu"]) == 2
