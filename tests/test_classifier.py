"""Tests for ganlib.classifier: accuracy on the held-out split, caching, RNG isolation."""
import pytest
import torch

from ganlib import classifier
from ganlib.images import load_digits


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("ganlib_cache")
    mp.setenv("GANLIB_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def clf8(cache):
    torch.set_num_threads(1)
    return classifier.get_classifier(8, verbose=False)


def test_trained_classifier_is_accurate_and_cached(clf8, cache):
    files = list(cache.glob("digit_classifier_s8_*.pt"))
    assert len(files) == 1 and classifier.VERSION in files[0].name
    assert clf8.test_accuracy > 0.97
    d = load_digits(8)
    acc = (clf8.predict(d.test) == d.test_labels).float().mean().item()
    assert acc == pytest.approx(clf8.test_accuracy)
    # far better than chance (0.1) and than a constant guess
    assert acc > 5 * 0.1


def test_cache_hit_gives_the_same_network_and_leaves_rng_alone(clf8):
    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    again = classifier.get_classifier(8, verbose=False)
    after = torch.rand(3)
    assert torch.equal(before, after)      # loading consumed no global random numbers
    for (k, a), (_, b) in zip(clf8.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k
    assert again.test_accuracy == clf8.test_accuracy


def test_training_leaves_rng_alone(cache):
    torch.manual_seed(11)
    before = torch.rand(3)
    torch.manual_seed(11)
    classifier.train_classifier(8, epochs=1)
    assert torch.equal(torch.rand(3), before)


def test_outputs_shapes_and_consistency(clf8):
    d = load_digits(8)
    x = d.test[:20]
    logits, feats = clf8.logits(x), clf8.features(x)
    assert logits.shape == (20, 10) and feats.shape == (20, classifier.FEATURE_DIM)
    assert torch.allclose(clf8.head(feats), logits, atol=1e-5)     # features are penultimate
    assert torch.equal(clf8.predict(x), logits.argmax(1))
    assert (feats >= 0).all()                                      # after a ReLU
    assert not logits.requires_grad


def test_bad_input(clf8):
    with pytest.raises(ValueError, match="choose one of"):
        classifier.get_classifier(10)
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        clf8.predict(torch.zeros(2, 1, 16, 16))
    with pytest.raises(TypeError):
        clf8.features([[0.0]])
    with pytest.raises(ValueError, match="choose one of: 8, 16, 32"):
        classifier.DigitClassifier(12)
