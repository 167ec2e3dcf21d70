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
