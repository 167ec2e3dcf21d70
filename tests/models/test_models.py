"""Tests of course_utils.models: parameter and FLOP counts against torch and
torchvision, our architectures against torchvision's (same weights, same
outputs), the small models' shapes, and argument errors.

Tolerances: parameter and FLOP counts are integers and must be equal.
Outputs of our networks and torchvision's with the same weights must agree
to 1e-5 (relative and absolute): the same operations in the same order, so
in practice they agree exactly.
"""

import numpy as np
import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils import data, models

TORCHVISION_MODELS = {
    "alexnet": 224,
    "vgg16": 224,
    "googlenet": 224,
    "inception_v3": 299,
    "resnet18": 224,
    "resnet50": 224,
    "resnext50_32x4d": 224,
}

# Totals published in torchvision's documentation (weights' "num_params").
PUBLISHED_PARAMETERS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,  # without the two auxiliary classifiers
    "inception_v3": 27_161_264,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "resnext50_32x4d": 25_028_904,
}


def meta_torchvision(name):
    """A torchvision model on the meta device: shapes only, built instantly."""
    kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
    with torch.device("meta"):
        return getattr(torchvision.models, name)(weights=None, **kwargs)


def reference_flops(model, shape):
    model.eval()
    device = next(model.parameters()).device
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(shape, device=device))
    return counter.get_total_flops()


@pytest.mark.parametrize("name", list(TORCHVISION_MODELS))
def test_parameter_and_flop_parity_with_torchvision(name):
    model = meta_torchvision(name)
    counted = models.count_parameters(model)
    per_layer_reference = {
        (module_name or type(module).__name__): sum(p.numel() for p in module.parameters(recurse=False))
        for module_name, module in model.named_modules()
        if list(module.parameters(recurse=False))
    }
    assert counted.per_layer == per_layer_reference
    assert counted.total == sum(p.numel() for p in model.parameters())
    aux = 0
    if name == "googlenet":
        aux = sum(v for k, v in counted.per_layer.items() if k.startswith("aux"))
    assert counted.total - aux == PUBLISHED_PARAMETERS[name]
    size = TORCHVISION_MODELS[name]
    shape = (1, 3, size, size)
    total, per_layer = models.count_flops(model, shape, per_layer=True)
    assert total == reference_flops(model, shape)
    assert sum(per_layer.values()) == total


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18", "resnet50", "resnext50_32x4d"])
def test_our_architectures_equal_torchvision(name):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)(weights=None).eval()
    ours = getattr(models, name)().eval()
    assert models.count_parameters(ours).per_layer == models.count_parameters(reference).per_layer
    ours.load_state_dict(reference.state_dict(), strict=True)  # same names, same shapes
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def test_inception_modules_equal_torchvision():
    from torchvision.models.googlenet import Inception
    from torchvision.models.inception import InceptionC

    torch.manual_seed(0)
    googlenet_configs = [  # Table 1 of Szegedy et al. (2015), as in torchvision
        (192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64),
        (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64),
        (512, 128, 128, 256, 24, 64, 64), (512, 112, 144, 288, 32, 64, 64),
        (528, 256, 160, 320, 32, 128, 128), (832, 256, 160, 320, 32, 128, 128),
        (832, 384, 192, 384, 48, 128, 128),
    ]
    for config in googlenet_configs:
        reference = Inception(*config).eval()
        ours = models.InceptionModule(*config).eval()
        ours.load_state_dict(reference.state_dict(), strict=True)
        x = torch.randn(2, config[0], 7, 7)
        with torch.no_grad():
            out = ours(x)
            torch.testing.assert_close(out, reference(x), rtol=1e-5, atol=1e-5)
        assert out.shape[1] == config[1] + config[3] + config[5] + config[6]
    for c7 in (128, 160, 192):
        reference = InceptionC(768, c7).eval()
        ours = models.FactorizedInception(768, c7).eval()
        ours.load_state_dict(reference.state_dict(), strict=True)
        x = torch.randn(1, 768, 5, 5)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def test_layer_parameters_formula_on_random_layers():
    rng = np.random.default_rng(0)
    for _ in range(200):
        groups = int(rng.choice([1, 2, 4]))
        c_in, c_out = groups * int(rng.integers(1, 6)), groups * int(rng.integers(1, 6))
        kernel = tuple(int(k) for k in rng.integers(1, 6, size=2))
        bias = bool(rng.integers(2))
        layers = [
            nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias),
            nn.ConvTranspose2d(c_in, c_out, kernel, groups=groups, bias=bias),
            nn.Conv1d(c_in, c_out, kernel[0], groups=groups, bias=bias),
            nn.Linear(c_in, c_out, bias=bias),
            nn.BatchNorm2d(c_out, affine=bias),
            nn.LayerNorm((c_in, c_out), elementwise_affine=bias),
            nn.GroupNorm(groups, c_out),
            nn.Embedding(c_in, c_out),
            nn.PReLU(c_out),  # a layer without a formula: counted by size
        ]
        for layer in layers:
            assert models.layer_parameters(layer) == sum(p.numel() for p in layer.parameters()), layer


def test_count_parameters_examples_and_trainable_only():
    conv = nn.Conv2d(3, 64, 11, stride=4, padding=2)  # notebook 04's AlexNet layer
    assert models.count_parameters(conv).total == 23_296
    assert list(models.count_parameters(conv).per_layer) == ["Conv2d"]
    lenet = models.LeNet5()
    assert models.count_parameters(lenet).total == 61_706
    assert list(models.count_parameters(lenet).per_layer.values()) == [156, 2_416, 48_120, 10_164, 850]
    for p in lenet.features.parameters():
        p.requires_grad_(False)
    assert models.count_parameters(lenet, trainable_only=True).total == 61_706 - 156 - 2_416
    shared = nn.Linear(3, 3)
    assert models.count_parameters(nn.Sequential(shared, shared)).total == 12


def test_count_flops_on_small_models_and_random_layers():
    rng = np.random.default_rng(1)
    for _ in range(30):
        groups = int(rng.choice([1, 2, 3]))
        c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        k, stride = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        padding = int(rng.integers(0, k))  # keeps the transposed output non-empty
        size = int(rng.integers(k + 2, 12))
        for layer in (nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups),
                      nn.ConvTranspose2d(c_in, c_out, k, stride, padding, groups=groups)):
            shape = (int(rng.integers(1, 3)), c_in, size, size)
            assert models.count_flops(layer, shape) == reference_flops(layer, shape)
    small = {
        "lenet": (models.LeNet5(), (4, 1, 28, 28)),
        "mlp": (models.MLP(), (4, 1, 28, 28)),
        "vgg": (models.SmallVGG(), (2, 1, 28, 28)),
        "inception": (models.SmallInception(), (2, 1, 28, 28)),
        "resnet": (models.SmallResNet(), (2, 1, 28, 28)),
        "resnext": (models.SmallResNet(block="bottleneck", groups=4, base_width=32), (2, 1, 28, 28)),
        "plain": (models.DepthStack(3, shortcut="none"), (2, 1, 14, 14)),
        "linear3d": (nn.Linear(5, 7), (2, 3, 5)),
    }
    for name, (model, shape) in small.items():
        model.train()
        ours = models.count_flops(model, shape)
        assert model.training, f"{name}: count_flops must restore training mode"
        assert ours == reference_flops(model, shape), name
    # LeNet-5 by hand: multiply-adds of each layer, times 2
    lenet_macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    assert models.count_flops(models.LeNet5(), (1, 1, 28, 28)) == 2 * lenet_macs


def test_small_model_shapes_and_structure():
    x = torch.randn(3, 1, 28, 28)
    for model in (models.LeNet5(), models.MLP(), models.SmallVGG(), models.SmallInception(),
                  models.SmallResNet(), models.SmallResNet(block="bottleneck", groups=4, base_width=32),
                  models.DepthStack(2, shortcut="identity"), models.DepthStack(1, shortcut="projection")):
        assert model(x).shape == (3, 10), type(model).__name__
    assert models.SmallVGG(n_classes=5)(x).shape == (3, 5)
    assert [n for n, _ in models.SmallVGG().named_children()] == ["block1", "block2", "block3", "pool", "fc"]
    # plain and identity stacks have the same parameters; projections add some
    plain, identity, projection = (models.DepthStack(3, shortcut=s) for s in ("none", "identity", "projection"))
    assert models.count_parameters(plain).total == models.count_parameters(identity).total
    assert models.count_parameters(projection).total > models.count_parameters(plain).total
    assert plain.depth == 20 and models.DepthStack(9).depth == 56
    # a plain block is the residual block without its addition
    torch.manual_seed(0)
    block = models.BasicBlock(4, 4, shortcut="identity").eval()
    plain_block = models.BasicBlock(4, 4, shortcut="none").eval()
    plain_block.load_state_dict(block.state_dict())
    y = torch.randn(2, 4, 6, 6)
    with torch.no_grad():
        inner = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(y)))))
        torch.testing.assert_close(block(y), torch.relu(inner + y))
        torch.testing.assert_close(plain_block(y), torch.relu(inner))
    # zero-padded identity shortcut: subsample and pad channels
    down = models.BasicBlock(4, 8, stride=2, shortcut="identity")
    shortcut = down.downsample(y)
    assert shortcut.shape == (2, 8, 3, 3)
    torch.testing.assert_close(shortcut[:, :4], y[:, :, ::2, ::2])
    assert torch.all(shortcut[:, 4:] == 0)
    assert models.count_parameters(down).total == models.count_parameters(
        models.BasicBlock(4, 8, stride=2, shortcut="none")).total
    # grouped 3x3: ResNeXt's block has fewer weights in that layer than a dense one
    dense = models.Bottleneck(256, 64)
    grouped = models.Bottleneck(256, 64, groups=32, base_width=4)
    assert grouped.conv2.weight.shape == (128, 4, 3, 3) and dense.conv2.weight.shape == (64, 64, 3, 3)


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="model"):
        models.count_parameters("resnet18")
    with pytest.raises(TypeError, match="trainable_only"):
        models.count_parameters(nn.Linear(2, 2), trainable_only=1)
    with pytest.raises(TypeError, match="layer"):
        models.layer_parameters(3)
    with pytest.raises(TypeError, match="model"):
        models.count_flops(None, (1, 3))
    with pytest.raises(TypeError, match="input_shape"):
        models.count_flops(nn.Linear(2, 2), 2)
    with pytest.raises(ValueError, match=r"input_shape\[1\]"):
        models.count_flops(nn.Linear(2, 2), (1, 0))
    with pytest.raises(ValueError, match="shortcut"):
        models.BasicBlock(4, 4, shortcut="skip")
    with pytest.raises(ValueError, match="block"):
        models.SmallResNet(block="dense")
    with pytest.raises(ValueError, match="n must be >= 1"):
        models.DepthStack(0)
    with pytest.raises(TypeError, match="n_classes"):
        models.LeNet5(n_classes=2.5)
    with pytest.raises(ValueError, match="sizes"):
        models.MLP(sizes=(10,))
    with pytest.raises(ValueError, match="widths"):
        models.SmallVGG(widths=(8, 16))
    with pytest.raises(ValueError, match="kernel5"):
        models.InceptionModule(8, 2, 2, 2, 2, 2, 2, kernel5=4)
    with pytest.raises(ValueError, match="layers"):
        models.ResNet(models.BasicBlock, [2, 2, 2])


# --------------------------------------------------------------------------
# Transfer learning: source weights and regimes
# --------------------------------------------------------------------------


def test_source_weights_load_with_checksum_and_classify_held_out_digits():

    weights = data.load_source_weights()
    model = models.SmallVGG(n_classes=5)
    assert list(weights) == list(model.state_dict())
    assert all(w.dtype in (np.float32, np.int64) for w in weights.values())
    source = models.load_source_model()
    images, labels = data.load_mnist_subset()
    _, test_idx = data.mnist_split()
    test_idx = test_idx[labels[test_idx] <= 4]
    x = (torch.tensor(images[test_idx], dtype=torch.float32).unsqueeze(1) / 255 - 0.13) / 0.31
    with torch.no_grad():
        accuracy = (source(x).argmax(1).numpy() == labels[test_idx]).mean()
    assert accuracy > 0.97


def test_transfer_regimes_freeze_the_right_layers():
    expected = {
        "as is": [],
        "train fc": ["fc.weight", "fc.bias"],
        "train block3 + fc": ["block3.0.conv.weight", "block3.0.bn.weight", "block3.0.bn.bias",
                              "fc.weight", "fc.bias"],
    }
    source_state = models.load_source_model().state_dict()
    for regime in models.TRANSFER_REGIMES:
        net = models.transfer_model(regime, 3)
        assert net.fc.out_features == 3
        trainable = [n for n, p in net.named_parameters() if p.requires_grad]
        if regime in expected:
            assert trainable == expected[regime], regime
        else:
            assert trainable == [n for n, _ in net.named_parameters()], regime
        same = torch.equal(net.state_dict()["block1.0.conv.weight"], source_state["block1.0.conv.weight"])
        assert same == (regime != "from scratch"), regime
    with pytest.raises(ValueError, match="regime"):
        models.transfer_model("fine-tune", 3)


def test_nearest_class_mean_matches_sklearn_and_features_shape():
    from sklearn.neighbors import NearestCentroid

    rng = np.random.default_rng(0)
    for _ in range(20):
        n_classes, dim = int(rng.integers(2, 6)), int(rng.integers(1, 8))
        labels = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, 40)])
        train = rng.normal(size=(len(labels), dim)) + labels[:, None]
        test = rng.normal(size=(30, dim)) * 2
        ours = models.nearest_class_mean(torch.tensor(train), torch.tensor(labels), torch.tensor(test))
        reference = NearestCentroid().fit(train, labels).predict(test)
        assert np.array_equal(ours.numpy(), reference)
    features = models.extract_features(models.SmallVGG(), torch.randn(7, 1, 28, 28), batch_size=3)
    assert features.shape == (7, 64)
    with pytest.raises(TypeError, match="train_features"):
        models.nearest_class_mean(np.zeros((3, 2)), torch.zeros(3), torch.zeros((1, 2)))
    with pytest.raises(ValueError, match="same length"):
        models.nearest_class_mean(torch.zeros((3, 2)), torch.zeros(2), torch.zeros((1, 2)))
    with pytest.raises(ValueError, match="test_features"):
        models.nearest_class_mean(torch.zeros((3, 2)), torch.zeros(3), torch.zeros((1, 3)))
    with pytest.raises(TypeError, match="x must be"):
        models.extract_features(models.SmallVGG(), np.zeros((1, 1, 28, 28)))
