"""ganlib.runtime: seed, device and threads come from arguments or the environment."""
import pytest
import torch

from ganlib import runtime


def test_seed_from_env(monkeypatch):
    monkeypatch.setenv("GANLIB_SEED", "7")
    assert runtime.get_seed() == 7
    assert runtime.get_seed(3) == 3
    monkeypatch.delenv("GANLIB_SEED")
    assert runtime.get_seed() == runtime.DEFAULT_SEED


@pytest.mark.parametrize("raw", ["x", "1.5"])
def test_bad_seed_env(monkeypatch, raw):
    monkeypatch.setenv("GANLIB_SEED", raw)
    with pytest.raises(ValueError, match="GANLIB_SEED"):
        runtime.get_seed()


@pytest.mark.parametrize("seed", [-1, True, 1.0])
def test_bad_seed_argument(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        runtime.get_seed(seed)


def test_seed_from_negative_env(monkeypatch):
    monkeypatch.setenv("GANLIB_SEED", "-3")
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -3"):
        runtime.get_seed()


def test_seed_everything_is_reproducible():
    runtime.seed_everything(5)
    a = torch.randn(3)
    runtime.seed_everything(5)
    assert torch.equal(a, torch.randn(3))


def test_device_choice(monkeypatch):
    monkeypatch.delenv("GANLIB_DEVICE", raising=False)
    assert runtime.get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="cpu, cuda"):
        runtime.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            runtime.get_device("cuda")


def test_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("GANLIB_THREADS", "1")
        assert runtime.set_threads() == 1 and torch.get_num_threads() == 1
        assert runtime.set_threads(2) == 2
        monkeypatch.setenv("GANLIB_THREADS", "many")
        with pytest.raises(ValueError, match="GANLIB_THREADS"):
            runtime.set_threads()
        with pytest.raises(ValueError, match="thread count must be a positive integer"):
            runtime.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_setup_and_generators(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_THREADS", "1")
    rt = runtime.setup(seed=4, device="cpu")
    assert "seed=4" in capsys.readouterr().out
    assert rt.seed == 4 and rt.device.type == "cpu" and rt.threads == 1
    a = torch.randn(5, generator=rt.generator(1))
    b = torch.randn(5, generator=rt.generator(1))
    c = torch.randn(5, generator=rt.generator(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a, torch.randn(5, generator=torch.Generator().manual_seed(5)))
