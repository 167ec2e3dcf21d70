"""The course's one training loop: course_utils.train."""

import math

import pytest
import torch
from torch import nn

from course_utils import train, viz


def _blobs(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 3 * y[:, None].float()
    return x, y


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_fit_learns_and_records_history():
    x, y = _blobs()
    xv, yv = _blobs(seed=1)
    model = _model()
    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=5,
                        val=(xv, yv), progress=False)
    assert history.epochs == 5
    assert len(history["step_loss"]) == 5 * math.ceil(256 / 64)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history.last("val_accuracy") > 0.9
    assert sorted(history) == sorted(["train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                      "step_loss", "lr", "seconds"])
    assert all(a <= b for a, b in zip(history["seconds"], history["seconds"][1:]))
    scores = train.evaluate(model, (xv, yv))
    assert scores["accuracy"] == pytest.approx(history.last("val_accuracy"))
    assert scores["loss"] == pytest.approx(history.last("val_loss"))


def test_fit_equals_a_hand_written_loop():
    x, y = _blobs()
    a, b = _model(), _model()
    loader = train.make_loader(x, y, batch_size=32, seed=3)
    train.fit(a, loader, torch.optim.Adam(a.parameters(), lr=0.01), epochs=2, progress=False)
    opt = torch.optim.Adam(b.parameters(), lr=0.01)
    loader = train.make_loader(x, y, batch_size=32, seed=3)
    for _ in range(2):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(b(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_fit_is_reproducible_and_steps_the_schedule():
    x, y = _blobs()
    runs = []
    for _ in range(2):
        model = _model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        runs.append(train.fit(model, (x, y), opt, epochs=3, scheduler=sched, progress=False))
    assert runs[0]["step_loss"] == runs[1]["step_loss"]
    assert runs[0]["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_time_budget_stops_early():
    x, y = _blobs()
    model = _model()
    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=10_000,
                        time_budget_s=1e-9, progress=True)
    assert history.epochs == 1


def test_progress_bar_redraws_at_most_once_a_second(monkeypatch):
    # Every redraw in a notebook is a few widget messages; nbval does not read
    # them while a cell runs, and past about a thousand zmq drops messages, the
    # cell's end included (a long training cell then fails on a slow machine).
    import io
    import time

    import tqdm.auto
    import tqdm.std

    draws = []

    class CountingBar(tqdm.std.tqdm):
        def display(self, *args, **kwargs):
            draws.append(time.perf_counter())
            return super().display(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *a, **k: CountingBar(*a, file=io.StringIO(), **k))
    x, y = _blobs(n=8)
    model = _model()
    start = time.perf_counter()
    loader = train.make_loader(x, y, batch_size=8)
    train.fit(model, loader, torch.optim.SGD(model.parameters(), lr=0.1), epochs=3000, progress=True)
    seconds = time.perf_counter() - start
    # The old bar redrew at every 10th step: 300 draws here.
    assert len(draws) <= seconds / train.PROGRESS_INTERVAL_S + 3, (len(draws), seconds)


def test_divergence_raises_a_clear_error_with_history():
    x, y = _blobs()
    model = _model()
    with pytest.raises(train.TrainingDiverged, match=r"epoch 1, step \d+ \(learning rate 1e\+30\)") as err:
        train.fit(model, (x * 1e6, y), torch.optim.SGD(model.parameters(), lr=1e30), epochs=3,
                  progress=False)
    assert isinstance(err.value, FloatingPointError)
    assert len(err.value.history["step_loss"]) >= 1


def test_on_step_sees_gradients_and_custom_metric():
    x, y = _blobs()
    model = _model()
    norms = []
    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False,
                        on_step=lambda m, step, loss: norms.append(m[0].weight.grad.norm().item()),
                        metric=lambda out, t: 0.5, clip_grad_norm=1.0)
    assert len(norms) == 4 and all(n > 0 for n in norms)
    assert history["train_<lambda>"] == [0.5]


def test_freeze_trains_only_the_rest_and_keeps_frozen_bn_statistics():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU()))
    model.add_module("head", nn.Linear(8, 2))
    frozen = train.freeze(model, up_to="features")
    assert frozen == ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = _blobs()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    train.fit(model, (x, y), opt, epochs=2, progress=False)
    after = model.state_dict()
    for key in before:
        changed = not torch.equal(before[key], after[key])
        assert changed == key.startswith("head"), key
    train.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())
    assert len(train.freeze(model)) == 6


def test_predict_and_plot_history():
    x, y = _blobs()
    model = _model()
    model.train()
    out = train.predict(model, x, batch_size=100)
    assert out.shape == (256, 2) and model.training
    h = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, val=(x, y),
                  progress=False)
    fig = viz.plot_history({"a": h, "b": h})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4
    fig = viz.plot_history(h, metric=None)
    assert len(fig.axes) == 1


def test_bad_arguments_are_named():
    x, y = _blobs()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs or time_budget_s"):
        train.fit(model, (x, y), opt)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, (x, y), opt, epochs=0)
    with pytest.raises(TypeError, match="optimizer"):
        train.fit(model, (x, y), "adam", epochs=1)
    with pytest.raises(TypeError, match="model"):
        train.fit("net", (x, y), opt, epochs=1)
    with pytest.raises(TypeError, match="train"):
        train.fit(model, x, opt, epochs=1)
    with pytest.raises(ValueError, match="metric"):
        train.fit(model, (x, y), opt, epochs=1, metric="f1")
    with pytest.raises(ValueError, match="scheduler_step"):
        train.fit(model, (x, y), opt, epochs=1, scheduler_step="batch")
    with pytest.raises(ValueError, match="same length"):
        train.make_loader(x, y[:3])
    with pytest.raises(ValueError, match="up_to"):
        train.freeze(model, up_to="backbone")
    with pytest.raises(TypeError, match="history"):
        viz.plot_history({"a": 1})
    with pytest.raises(KeyError, match="val_loss"):
        train.History(train_loss=[1.0]).last("val_loss")


class _TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(2, 8)
        self.classes = nn.Linear(8, 2)
        self.box = nn.Linear(8, 4)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.classes(h), self.box(h)


def test_models_with_several_outputs():
    x, y = _blobs()
    torch.manual_seed(0)
    model = _TwoHeads()

    def loss_fn(outputs, targets):
        scores, boxes = outputs
        return nn.functional.cross_entropy(scores, targets) + boxes.pow(2).mean()

    def class_accuracy(outputs, targets):
        assert not outputs[0].requires_grad
        return train.accuracy(outputs[0], targets)

    history = train.fit(model, (x, y), torch.optim.Adam(model.parameters(), lr=0.01), epochs=3,
                        loss_fn=loss_fn, metric=class_accuracy, val=(x, y), progress=False)
    assert history.last("val_class_accuracy") > 0.9
    scores, boxes = train.predict(model, x, batch_size=100)
    assert scores.shape == (256, 2) and boxes.shape == (256, 4)


def test_eval_mode_restores_the_mode_even_after_an_error():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Dropout(0.5))
    model.train()
    with train.eval_mode(model):
        assert not model.training and not torch.is_grad_enabled()
    assert model.training and torch.is_grad_enabled()
    model.eval()
    with pytest.raises(RuntimeError, match="inside"):
        with train.eval_mode(model):
            raise RuntimeError("inside")
    assert not model.training, "a model in eval mode stays in eval mode"
    with pytest.raises(TypeError, match="model"):
        with train.eval_mode("not a model"):
            pass


# --------------------------------------------------------------------------
# Detectors: loss_fn="model", per-image targets and outputs, split metrics, devices
# --------------------------------------------------------------------------


class _ToyDetector(nn.Module):
    """torchvision's convention, in miniature: one learned box and class scores for every image.

    Train mode: ``model(images, targets)`` returns a dict of losses; eval
    mode: ``model(images)`` returns one dict (boxes, scores, labels) per image.
    """

    def __init__(self, n_classes=3):
        super().__init__()
        self.box = nn.Parameter(torch.zeros(4))
        self.logits = nn.Parameter(torch.zeros(n_classes))

    def forward(self, images, targets=None):
        n = len(images)
        if self.training:
            assert isinstance(targets, list) and len(targets) == n
            assert all(isinstance(t["image_id"], int) for t in targets), "non-tensors are passed through untouched"
            truth = torch.stack([t["boxes"][0] for t in targets])
            labels = torch.stack([t["labels"][0] for t in targets])
            return {"loss_box": nn.functional.mse_loss(self.box.expand(n, 4), truth),
                    "loss_classifier": nn.functional.cross_entropy(self.logits.expand(n, -1), labels)}
        probabilities = self.logits.softmax(0)
        return [{"boxes": self.box[None].clone(), "scores": probabilities.max()[None],
                 "labels": probabilities.argmax()[None]} for _ in range(n)]


def _boxes_data(n=12, seed=0):
    """(image, target) pairs with one object each, near the box (4, 4, 12, 12) of class 1."""
    g = torch.Generator().manual_seed(seed)
    items = []
    for i in range(n):
        corner = 4 + torch.rand(2, generator=g)
        box = torch.cat([corner, corner + 8])[None]
        items.append((torch.rand(1, 16, 16, generator=g),
                      {"boxes": box, "labels": torch.tensor([1]), "image_id": i}))
    return items


def _collate(batch):
    """Images stacked, targets kept as a list (what data.detection_collate does)."""
    return torch.stack([image for image, _ in batch]), [target for _, target in batch]


def _mean_iou(outputs, targets):
    """IoU of each image's first detection with its object, averaged over the split."""
    assert isinstance(outputs, list) and len(outputs) == len(targets)
    ious = []
    for out, target in zip(outputs, targets):
        a, b = out["boxes"][0], target["boxes"][0]
        w = (torch.minimum(a[2:], b[2:]) - torch.maximum(a[:2], b[:2])).clamp(min=0)
        inter = w[0] * w[1]
        ious.append(inter / ((a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter))
    return torch.stack(ious).mean().item()


def test_model_losses_train_a_detector_and_record_each_loss():
    torch.manual_seed(0)
    model = _ToyDetector()
    loader = torch.utils.data.DataLoader(_boxes_data(), batch_size=4, shuffle=False, collate_fn=_collate)
    val = torch.utils.data.DataLoader(_boxes_data(5, seed=1), batch_size=2, collate_fn=_collate)
    history = train.fit(model, loader, torch.optim.SGD(model.parameters(), lr=0.5), epochs=4, loss_fn="model",
                        val=val, metric=train.split_metric(_mean_iou, name="IoU"), progress=False)
    assert sorted(history) == sorted(["train_loss", "train_loss_box", "train_loss_classifier", "val_IoU",
                                      "step_loss", "lr", "seconds"])
    assert history["train_loss"] == pytest.approx(
        [a + b for a, b in zip(history["train_loss_box"], history["train_loss_classifier"])])
    assert len(history["step_loss"]) == 4 * 3
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_IoU"][0] < history["val_IoU"][-1] and history.last("val_IoU") > 0.5
    assert train.evaluate(model, val, loss_fn="model", metric=train.split_metric(_mean_iou, name="IoU")) \
        == {"IoU": pytest.approx(history.last("val_IoU"))}, "no loss in eval mode: the metric only"


def test_model_losses_equal_a_hand_written_loop():
    a, b = _ToyDetector(), _ToyDetector()
    items = _boxes_data()
    loader = torch.utils.data.DataLoader(items, batch_size=5, shuffle=False, collate_fn=_collate)
    train.fit(a, loader, torch.optim.Adam(a.parameters(), lr=0.1), epochs=2, loss_fn="model", progress=False)
    opt = torch.optim.Adam(b.parameters(), lr=0.1)
    for _ in range(2):
        for images, targets in loader:
            loss = sum(b(images, targets).values())
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_model_losses_that_diverge_are_named():
    model = _ToyDetector()
    items = [(image, {**target, "boxes": target["boxes"] * 1e30}) for image, target in _boxes_data()]
    loader = torch.utils.data.DataLoader(items, batch_size=4, collate_fn=_collate)
    with pytest.raises(train.TrainingDiverged, match="loss_box"):
        train.fit(model, loader, torch.optim.SGD(model.parameters(), lr=1e30), epochs=2, loss_fn="model",
                  progress=False)


def test_split_metric_sees_the_whole_split_once():
    x, y = _blobs(n=25)
    model = _model()
    calls = []

    @train.split_metric
    def median_margin(outputs, targets):
        calls.append((outputs.shape, targets.shape))
        return (outputs[:, 1] - outputs[:, 0]).median()  # a tensor: converted to a float

    scores = train.evaluate(model, (x, y), metric=median_margin, batch_size=10)
    assert calls == [((25, 2), (25,))]
    with torch.no_grad():
        out = model(x)
    assert scores["median_margin"] == pytest.approx((out[:, 1] - out[:, 0]).median().item())
    assert scores["loss"] == pytest.approx(nn.functional.cross_entropy(out, y).item(), rel=1e-5)
    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, val=(x, y),
                        metric=median_margin, progress=False)
    assert "val_median_margin" in history and "train_median_margin" not in history
    assert len(history["val_median_margin"]) == 2 and len(calls) == 3
    assert repr(train.split_metric(name="AP")(median_margin)) == "SplitMetric('AP')"


def test_predict_keeps_one_dict_per_image_and_reads_datasets_and_loaders():
    model = _ToyDetector()
    items = _boxes_data(7)
    out = train.predict(model, items, batch_size=3, collate_fn=_collate)
    assert isinstance(out, list) and len(out) == 7
    assert all(set(o) == {"boxes", "scores", "labels"} and o["boxes"].shape == (1, 4) for o in out)
    assert all(t.device.type == "cpu" and not t.requires_grad for o in out for t in o.values())
    loader = torch.utils.data.DataLoader(items, batch_size=2, collate_fn=_collate)
    out, targets = train.predict(model, loader, return_targets=True)
    assert len(out) == len(targets) == 7 and [t["image_id"] for t in targets] == list(range(7))
    # images alone: a Dataset of tensors, a TensorDataset of inputs, a tensor all agree
    x, _ = _blobs(n=10)
    classifier = _model()
    expected = train.predict(classifier, x, batch_size=4)
    assert torch.equal(train.predict(classifier, list(x), batch_size=4), expected)
    assert torch.equal(train.predict(classifier, torch.utils.data.TensorDataset(x), batch_size=3), expected)
    pairs, y = train.predict(classifier, train.make_loader(*_blobs(n=10), shuffle=False), return_targets=True)
    assert torch.allclose(pairs, expected) and torch.equal(y, _blobs(n=10)[1])  # batches of 64: other rounding


def test_device_argument():
    x, y = _blobs(n=64)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(model, (x, y), opt, epochs=1, val=(x, y), device="cpu", progress=False)
    assert history.epochs == 1
    assert set(train.evaluate(model, (x, y), device=torch.device("cpu"))) == {"loss", "accuracy"}
    assert train.predict(model, x, device="cpu").device.type == "cpu"
    with pytest.raises(ValueError, match="device must be None, a string"):
        train.fit(model, (x, y), opt, epochs=1, device="gpu0", progress=False)
    with pytest.raises(TypeError, match="device must be"):
        train.predict(model, x, device=0.5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            train.evaluate(model, (x, y), device="cuda")


def test_detector_arguments_are_checked():
    x, y = _blobs(n=16)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = torch.utils.data.DataLoader(_boxes_data(4), batch_size=2, collate_fn=_collate)
    detector = _ToyDetector()

    class ScoresOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x, targets=None):
            return self.layer(x)

    with pytest.raises(TypeError, match='loss_fn="model" expects model'):
        train.fit(ScoresOnly(), (x, y), opt, epochs=1, loss_fn="model", progress=False)
    with pytest.raises(ValueError, match="loss_fn must be one of 'model'"):
        train.fit(model, (x, y), opt, epochs=1, loss_fn="modle")
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        train.evaluate(model, (x, y), loss_fn=3)
    with pytest.raises(ValueError, match="give a metric"):
        train.fit(detector, loader, opt, epochs=1, loss_fn="model", val=loader, metric=None)
    with pytest.raises(ValueError, match="give a metric"):
        train.evaluate(detector, loader, loss_fn="model", metric=None)
    with pytest.raises(TypeError, match="accuracy needs class scores"):
        train.evaluate(detector, loader, loss_fn="model")
    with pytest.raises(TypeError, match="fn must be callable"):
        train.split_metric(3)
    with pytest.raises(TypeError, match="must return a number"):
        train.evaluate(model, (x, y), metric=train.split_metric(lambda o, t: "high"))
    with pytest.raises(ValueError, match="return_targets"):
        train.predict(model, x, return_targets=True)
    with pytest.raises(ValueError, match="return_targets"):
        train.predict(model, list(x), return_targets=True)
    with pytest.raises(ValueError, match="collate_fn is for a Dataset"):
        train.predict(detector, loader, collate_fn=_collate)
    with pytest.raises(TypeError, match="x must be a tensor, a DataLoader or a Dataset"):
        train.predict(model, 3)
    with pytest.raises(TypeError, match="x must be a tensor, a DataLoader or a Dataset; got tuple"):
        train.predict(model, (x, y))
    with pytest.raises(TypeError, match="data must be a DataLoader"):
        train.evaluate(model, x)
    with pytest.raises(TypeError, match="x and y must be torch tensors"):
        train.evaluate(model, (x.numpy(), y.numpy()))
    with pytest.raises(ValueError, match="at least one example"):
        train.predict(model, x[:0])


def test_a_torchvision_detector_trains_through_fit():
    """Faster R-CNN with a two-layer backbone, on 32 x 32 images: a few steps, on the CPU."""
    detection = pytest.importorskip("torchvision.models.detection")
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.ops import MultiScaleRoIAlign

    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
    backbone.out_channels = 16
    model = detection.FasterRCNN(
        backbone, num_classes=3, min_size=32, max_size=32, image_mean=[0.5], image_std=[0.25],
        rpn_anchor_generator=AnchorGenerator(sizes=((8, 16),), aspect_ratios=((1.0,),)),
        box_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=4, sampling_ratio=2),
        representation_size=32, rpn_pre_nms_top_n_train=50, rpn_post_nms_top_n_train=20,
        rpn_pre_nms_top_n_test=50, rpn_post_nms_top_n_test=20, rpn_batch_size_per_image=32,
        box_batch_size_per_image=16, box_detections_per_img=10)
    items = [(image.repeat(1, 2, 2), target) for image, target in _boxes_data(6)]  # 32 x 32
    loader = torch.utils.data.DataLoader(items, batch_size=3, collate_fn=_collate)
    n_detections = train.split_metric(lambda outputs, targets: sum(len(o["boxes"]) for o in outputs) / len(outputs),
                                      name="detections_per_image")
    history = train.fit(model, loader, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), epochs=2,
                        loss_fn="model", val=loader, metric=n_detections, device="cpu", progress=False)
    assert {"train_loss_classifier", "train_loss_box_reg", "train_loss_objectness", "train_loss_rpn_box_reg",
            "val_detections_per_image"} <= set(history)
    assert all(math.isfinite(v) for v in history["step_loss"]) and len(history["step_loss"]) == 4
    out = train.predict(model, loader)
    assert len(out) == 6 and all(set(o) == {"boxes", "scores", "labels"} for o in out)
    assert history.last("val_detections_per_image") == pytest.approx(sum(len(o["boxes"]) for o in out) / 6)


def test_ms_per_image_times_the_model_and_slices_extra_inputs():
    from course_utils.train import ms_per_image

    seen = []

    class Recorder(nn.Module):
        def forward(self, x, tag=None):
            seen.append((len(x), list(tag)))
            return x

    images = torch.zeros(5, 1, 4, 4)
    ms = ms_per_image(Recorder(), images, batch_size=2, repeats=2, tag=["a", "b", "c", "d", "e"])
    assert ms >= 0 and seen[:3] == [(2, ["a", "b"]), (2, ["c", "d"]), (1, ["e"])] and len(seen) == 6
    with pytest.raises(ValueError, match="tag must have one entry per image"):
        ms_per_image(Recorder(), images, tag=["a"])
    with pytest.raises(TypeError, match="images must be a non-empty tensor"):
        ms_per_image(Recorder(), [1, 2])


def test_fit_one_cycle_trains_only_what_requires_gradients():
    import torch
    from course_utils.train import fit_one_cycle, make_loader

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.clone()
    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    loader = make_loader(x, y, batch_size=8)
    history = fit_one_cycle(model, loader, 1e-2, torch.nn.functional.cross_entropy, progress=False)
    assert len(history["step_loss"]) == len(loader) == 5
    assert torch.equal(model[0].weight, frozen) and history["seconds"][-1] > 0
    with pytest.raises(ValueError, match="requires gradients"):
        fit_one_cycle(torch.nn.Linear(1, 1).requires_grad_(False), loader, 1e-2, torch.nn.functional.mse_loss)


def test_early_stopping_remembers_the_best_epoch_without_changing_training():
    x, y = _blobs()
    xv, yv = _blobs(seed=1)
    plain = _model()
    reference = train.fit(plain, (x, y), torch.optim.SGD(plain.parameters(), lr=0.5), epochs=6,
                          val=(xv, yv), progress=False)
    model = _model()
    stopper = train.EarlyStopping("val_loss")
    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.5), epochs=6,
                        val=(xv, yv), progress=False, on_epoch=stopper)
    assert history["train_loss"] == reference["train_loss"] and history["val_loss"] == reference["val_loss"]
    best = min(range(6), key=lambda i: history["val_loss"][i])
    assert stopper.best_epoch == best + 1 and stopper.best_value == history["val_loss"][best]
    # the restored weights give the best epoch's validation loss
    restored = stopper.restore(_model(seed=5))
    assert train.evaluate(restored, (xv, yv))["loss"] == pytest.approx(stopper.best_value, rel=1e-6)
    # the copy is not a view of the trained model
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert not torch.equal(stopper.best_state["0.weight"], model[0].weight)


def test_early_stopping_patience_stops_training():
    x, y = _blobs()
    model = _model()
    values = iter([1.0, 0.5, 0.7, 0.6, 0.9, 0.4, 0.3])
    stopper = train.EarlyStopping("val_fake", mode="min", patience=3)

    def on_epoch(m, history):
        history.setdefault("val_fake", []).append(next(values))
        return stopper(m, history)

    history = train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=7,
                        progress=False, on_epoch=on_epoch)
    assert history.epochs == 5 and stopper.best_epoch == 2 and stopper.best_value == 0.5
    high = train.EarlyStopping("val_fake", mode="max")
    for epoch, value in enumerate([0.1, 0.3, 0.2], start=1):
        assert high(model, {"val_fake": [0.0] * (epoch - 1) + [value]}) is False
    assert high.best_epoch == 2


def test_early_stopping_skips_nan_and_starts_afresh_with_each_run():
    model = _model()
    stopper = train.EarlyStopping("val_loss", patience=2)
    assert stopper(model, {"val_loss": [float("nan")]}) is False and stopper.best_epoch is None
    assert stopper(model, {"val_loss": [float("nan"), 2.0]}) is False and stopper.best_epoch == 2
    assert stopper(model, {"val_loss": [float("nan"), 2.0, float("nan")]}) is False
    assert stopper(model, {"val_loss": [float("nan"), 2.0, float("nan"), 3.0]}) is True
    # a NaN run with patience stops after `patience` epochs, with nothing remembered
    diverged = train.EarlyStopping("val_loss", patience=2)
    assert diverged(model, {"val_loss": [float("nan")]}) is False
    assert diverged(model, {"val_loss": [float("nan")] * 2}) is True and diverged.best_state is None
    # a second run (a history of one value) forgets the first run's best
    stopper(model, {"val_loss": [5.0]})
    assert stopper.best_epoch == 1 and stopper.best_value == 5.0
    x, y = _blobs()
    xv, yv = _blobs(seed=1)
    twice = train.EarlyStopping("val_loss")
    for _ in range(2):
        run = _model()
        history = train.fit(run, (x, y), torch.optim.SGD(run.parameters(), lr=0.5), epochs=3,
                            val=(xv, yv), progress=False, on_epoch=twice)
    assert twice.best_value == min(history["val_loss"])


def test_early_stopping_checks_its_input():
    with pytest.raises(ValueError, match="mode"):
        train.EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        train.EarlyStopping(patience=0)
    with pytest.raises(KeyError, match="val_loss"):
        train.EarlyStopping()(_model(), {"train_loss": [1.0]})
    with pytest.raises(RuntimeError, match="on_epoch"):
        train.EarlyStopping().restore(_model())
    x, y = _blobs()
    model = _model()
    with pytest.raises(TypeError, match="on_epoch"):
        train.fit(model, (x, y), torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False,
                  on_epoch="stop")


def test_fit_one_cycle_epochs_and_adam_equal_the_recipe_written_out():
    from course_utils.train import fit, fit_one_cycle, make_loader

    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    weights = []
    for written_out in (True, False):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        loader = make_loader(x, y, batch_size=8, seed=0)
        if written_out:
            optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=3 * len(loader),
                                                           pct_start=0.3)
            fit(model, loader, optimizer, epochs=3, scheduler=schedule, scheduler_step="step", progress=False)
        else:
            fit_one_cycle(model, loader, 0.05, loss_fn=None, weight_decay=0, pct_start=0.3, progress=False,
                          epochs=3, optimizer="adam")
        weights.append(model.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])
    with pytest.raises(ValueError, match="optimizer must be"):
        fit_one_cycle(torch.nn.Linear(3, 2), make_loader(x, y), 0.1, optimizer="sgd")
