"""Notebooks 08, 09 and 11: graded cells accept the solution and reject the stub and plausible wrong answers.

Each graded cell runs the answer with the course function that *is* the answer
forbidden (``course_utils.exercises.forbid``), so delegating to it fails; hidden
tests add the cases where the wrong answers below differ from the right one
(labels all 0, a single input, square matrices, a probability exactly at the
threshold, lam on the second label, arguments that are not the defaults).
Notebook 09's recall has no course implementation to forbid.

Each notebook's Exercise 4 is not shown in it (issue 17): 08 the gradient of a
positive-weighted binary cross-entropy, 09 the softmax layer's own backward pass,
11 label-smoothed cross-entropy; their graders compare with torch (autograd,
``F.cross_entropy(label_smoothing=...)``) and the wrong answers below are the
derivation slips each one invites.
"""

from graded import exercise_tests, guard_tests


LOGREG_PRELUDE = """
import numpy as np
import torch
import torch.nn.functional as F
from course_utils import classifiers, layers
rng = np.random.default_rng(0)
p_train = rng.normal(size=(200, 2)) / 2
y_train = (p_train @ np.array([2.0, -1.0]) + rng.normal(0, 0.5, 200) > 0).astype(float)
"""
_BCE = "def bce(a, y):\n    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)\n"
_GRAD = "def gradients(x, y, w, b):\n    a = layers.sigmoid(x @ w + b)\n"
_GD = "def gradient_descent(x, y, lr, steps):\n    w, b = np.zeros(x.shape[1]), 0.0\n"
_WGRAD = "def weighted_gradients(x, y, w, b, pos_weight):\n    a = layers.sigmoid(x @ w + b)\n"
_WEIGHT = "    s = pos_weight * y + (1 - y)\n"
_STEP = ("        a = layers.sigmoid(x @ w + b)\n"
         "        w, b = w - lr * x.T @ (a - y) / len(y), b - lr * np.mean(a - y)\n")

# weighted_gradients answers that let torch differentiate (the graded cell forbids autograd and its losses)
WEIGHTED_DELEGATIONS = {
    "torch's autograd of F.binary_cross_entropy_with_logits(pos_weight=...)": (
        "def weighted_gradients(x, y, w, b, pos_weight):\n"
        "    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)\n"
        "    b_t = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)\n"
        "    F.binary_cross_entropy_with_logits(torch.tensor(x) @ w_t + b_t, torch.tensor(y, dtype=torch.float64),\n"
        "        pos_weight=torch.tensor(float(pos_weight), dtype=torch.float64)).backward()\n"
        "    return w_t.grad.numpy(), b_t.grad.item()\n"),
    "torch.autograd.grad of a hand-written weighted loss": (
        "def weighted_gradients(x, y, w, b, pos_weight):\n"
        "    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)\n"
        "    b_t = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)\n"
        "    a = torch.sigmoid(torch.tensor(x) @ w_t + b_t)\n    yt = torch.tensor(y, dtype=torch.float64)\n"
        "    loss = -(pos_weight * yt * torch.log(a) + (1 - yt) * torch.log(1 - a)).mean()\n"
        "    dw, db = torch.autograd.grad(loss, (w_t, b_t))\n"
        "    return dw.numpy(), db.item()\n"),
}

test_logreg_solution, test_logreg_wrong = exercise_tests("3_training/08_logistic_regression.ipynb", LOGREG_PRELUDE, [
    ("logreg_bce", {
        "sum instead of mean": _BCE + "    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))\n",
        "only the positive term": _BCE + "    return float(-np.mean(y * np.log(a)))\n",
        "log base 2": _BCE + "    return float(-np.mean(y * np.log2(a) + (1 - y) * np.log2(1 - a)))\n",
        "mean over the first axis only": _BCE + "    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a), axis=0)\n",
        "the course's binary cross-entropy": _BCE + "    return float(layers.binary_cross_entropy(a, y)[0])\n",
    }),
    ("logreg_gradients", {
        "sum instead of mean": _GRAD + "    return x.T @ (a - y), float(np.sum(a - y))\n",
        "sign flipped": _GRAD + "    return x.T @ (y - a) / len(y), float(np.mean(y - a))\n",
        "no sigmoid": "def gradients(x, y, w, b):\n    a = x @ w + b\n    return x.T @ (a - y) / len(y), float(np.mean(a - y))\n",
        "db summed, dw averaged": _GRAD + "    return x.T @ (a - y) / len(y), float(np.sum(a - y))\n",
        "the course's gradients": ("def gradients(x, y, w, b):\n"
                                   "    return classifiers.logistic_gradients(x, classifiers.logistic_forward(x, w, b), y)\n"),
    }),
    ("logreg_descent", {
        "one step too many": _GD + "    for _ in range(steps + 1):\n" + _STEP + "    return w, b\n",
        "one step too few": _GD + "    for _ in range(max(steps - 1, 0)):\n" + _STEP + "    return w, b\n",
        "b updated with the new w": _GD + "    for _ in range(steps):\n" + (
            "        a = layers.sigmoid(x @ w + b)\n        w = w - lr * x.T @ (a - y) / len(y)\n"
            "        b = b - lr * np.mean(layers.sigmoid(x @ w + b) - y)\n") + "    return w, b\n",
        "gradient ascent": _GD + "    for _ in range(steps):\n" + (
            "        a = layers.sigmoid(x @ w + b)\n"
            "        w, b = w + lr * x.T @ (a - y) / len(y), b + lr * np.mean(a - y)\n") + "    return w, b\n",
        "starts at ones": ("def gradient_descent(x, y, lr, steps):\n    w, b = np.ones(x.shape[1]), 0.0\n"
                           "    for _ in range(steps):\n" + _STEP + "    return w, b\n"),
        "the course's trainer": ("def gradient_descent(x, y, lr, steps):\n"
                                 "    w, b, _ = classifiers.train_logistic_regression(x, y, lr=lr, steps=steps)\n"
                                 "    return w, b\n"),
    }),
    ("logreg_weighted", {
        "unweighted (Exercise 2's answer)": _WGRAD + "    return x.T @ (a - y) / len(y), float(np.mean(a - y))\n",
        "every example weighted": _WGRAD + (
            "    dz = pos_weight * (a - y)\n    return x.T @ dz / len(y), float(np.mean(dz))\n"),
        "the weight on the negatives": _WGRAD + (
            "    dz = (a - y) * (y + pos_weight * (1 - y))\n    return x.T @ dz / len(y), float(np.mean(dz))\n"),
        "divided by the total weight": _WGRAD + _WEIGHT + (
            "    dz = (a - y) * s\n    return x.T @ dz / s.sum(), float(np.sum(dz) / s.sum())\n"),
        "weight on the label only (a - w+ y)": _WGRAD + (
            "    dz = a - pos_weight * y\n    return x.T @ dz / len(y), float(np.mean(dz))\n"),
        "sign flipped": _WGRAD + _WEIGHT + (
            "    dz = (y - a) * s\n    return x.T @ dz / len(y), float(np.mean(dz))\n"),
        "db not weighted": _WGRAD + _WEIGHT + (
            "    return x.T @ ((a - y) * s) / len(y), float(np.mean(a - y))\n"),
        "the course's gradients on rescaled rows": (
            "def weighted_gradients(x, y, w, b, pos_weight):\n"
            "    a = classifiers.logistic_forward(x, w, b)\n    s = pos_weight * y + (1 - y)\n"
            "    dw, _ = classifiers.logistic_gradients(x * s[:, None], a, y)\n"
            "    return dw, float(np.mean((a - y) * s))\n"),
        **WEIGHTED_DELEGATIONS,
    }),
])
test_logreg_guard = guard_tests("3_training/08_logistic_regression.ipynb", LOGREG_PRELUDE, "logreg_weighted",
                                WEIGHTED_DELEGATIONS)

BACKPROP_PRELUDE = """
import numpy as np
import torch
from sklearn.metrics import recall_score
from course_utils import layers
rng = np.random.default_rng(0)
y_test = rng.integers(0, 2, 300)
probability = np.clip(0.35 * y_test + rng.uniform(0, 0.65, 300), 0, 1)
"""
_LIN = "def linear_grads(dout, x, w):\n"
_SM = ("def softmax_ce_grad(logits, labels):\n"
       "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
       "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n")
_SMB = "def softmax_backward(dout, p):\n"
_REC = "def recall_at(probability, truth, threshold):\n    truth = np.asarray(truth).astype(bool)\n"

# softmax_backward answers that let torch (or the course's numerical gradient) differentiate
SOFTMAX_DELEGATIONS = {
    "torch.autograd.grad of torch.softmax(log p)": (
        _SMB + "    z = torch.tensor(np.log(p), requires_grad=True)\n"
        "    (g,) = torch.autograd.grad((torch.softmax(z, 1) * torch.tensor(dout)).sum(), z)\n    return g.numpy()\n"),
    ".backward() of torch.softmax(log p)": (
        _SMB + "    z = torch.tensor(np.log(p), requires_grad=True)\n"
        "    (torch.softmax(z, 1) * torch.tensor(dout)).sum().backward()\n    return z.grad.numpy()\n"),
    "torch.func.vjp of torch.softmax": (
        _SMB + "    _, vjp = torch.func.vjp(lambda z: torch.softmax(z, 1), torch.tensor(np.log(p)))\n"
        "    return vjp(torch.tensor(dout))[0].numpy()\n"),
    "the course's numerical gradient": (
        _SMB + "    z = np.log(p)\n"
        "    def loss():\n        e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "        return float(np.sum(dout * e / e.sum(axis=1, keepdims=True)))\n"
        "    return layers.numerical_gradient(loss, z)\n"),
}

test_backprop_solution, test_backprop_wrong = exercise_tests("3_training/09_backpropagation.ipynb", BACKPROP_PRELUDE, [
    ("backprop_linear", {
        "dw transposed": _LIN + "    return dout @ w, x.T @ dout, dout.sum(axis=0)\n",
        "dw transposed, reshaped to fit": _LIN + "    return dout @ w, (x.T @ dout).reshape(w.shape), dout.sum(axis=0)\n",
        "db averaged": _LIN + "    return dout @ w, dout.T @ x, dout.mean(axis=0)\n",
        "db summed over the wrong axis": _LIN + "    return dout @ w, dout.T @ x, dout.sum(axis=1)\n",
        "dx averaged over the batch": _LIN + "    return dout @ w / len(x), dout.T @ x, dout.sum(axis=0)\n",
        "the course's backward": (_LIN + "    _, cache = layers.linear_forward(x, w, np.zeros(w.shape[0]))\n"
                                  "    return layers.linear_backward(dout, cache)\n"),
    }),
    ("backprop_softmax_grad", {
        "no division by N": _SM + "    p[np.arange(len(labels)), labels] -= 1\n    return p\n",
        "no shift (overflows)": ("def softmax_ce_grad(logits, labels):\n"
                                 "    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)\n"
                                 "    p[np.arange(len(labels)), labels] -= 1\n    return p / len(labels)\n"),
        "shift by the largest logit of the whole batch": (
            "def softmax_ce_grad(logits, labels):\n    shifted = logits - logits.max()\n"
            "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
            "    p[np.arange(len(labels)), labels] -= 1\n    return p / len(labels)\n"),
        "one-hot subtracted from whole columns": _SM + "    p[:, labels] -= 1\n    return p / len(labels)\n",
        "softmax over the batch axis": ("def softmax_ce_grad(logits, labels):\n"
                                        "    shifted = logits - logits.max(axis=0, keepdims=True)\n"
                                        "    p = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)\n"
                                        "    p[np.arange(len(labels)), labels] -= 1\n    return p / len(labels)\n"),
        "the course's softmax": ("def softmax_ce_grad(logits, labels):\n    p = layers.softmax(logits).copy()\n"
                                 "    p[np.arange(len(labels)), labels] -= 1\n    return p / len(labels)\n"),
        "the course's loss": ("def softmax_ce_grad(logits, labels):\n"
                              "    return layers.softmax_cross_entropy(logits, labels)[1]\n"),
    }),
    ("backprop_recall", {
        "at or above the threshold": _REC + (
            "    predicted = np.asarray(probability) >= threshold\n"
            "    return float((predicted & truth).sum() / truth.sum())\n"),
        "precision": _REC + (
            "    predicted = np.asarray(probability) > threshold\n"
            "    return float((predicted & truth).sum() / predicted.sum())\n"),
        "divided by all examples": _REC + (
            "    predicted = np.asarray(probability) > threshold\n"
            "    return float((predicted & truth).sum() / truth.size)\n"),
        "recall of the negative class": _REC + (
            "    predicted = np.asarray(probability) > threshold\n"
            "    return float((~predicted & ~truth).sum() / (~truth).sum())\n"),
        "scikit-learn's recall": ("def recall_at(probability, truth, threshold):\n"
                                  "    return recall_score(np.asarray(truth).astype(int), (np.asarray(probability) > threshold).astype(int))\n"),
        "scikit-learn's confusion matrix": ("def recall_at(probability, truth, threshold):\n"
                                            "    from sklearn.metrics import confusion_matrix\n"
                                            "    tn, fp, fn, tp = confusion_matrix(np.asarray(truth).astype(int),\n"
                                            "                                      (np.asarray(probability) > threshold).astype(int)).ravel()\n"
                                            "    return tp / (tp + fn)\n"),
    }),
    ("backprop_softmax_backward", {
        "elementwise, like the sigmoid": _SMB + "    return dout * p * (1 - p)\n",
        "the course's sigmoid backward": _SMB + "    return layers.sigmoid_backward(dout, p)\n",
        "plain sum of dout": _SMB + "    return p * (dout - dout.sum(axis=1, keepdims=True))\n",
        "weighted sum over the batch axis": _SMB + "    return p * (dout - (dout * p).sum(axis=0, keepdims=True))\n",
        "row sums broadcast along the wrong axis": _SMB + "    return p * (dout - (dout * p).sum(axis=1))\n",
        "sign flipped": _SMB + "    return p * ((dout * p).sum(axis=1, keepdims=True) - dout)\n",
        "the whole batch as one softmax": _SMB + "    return p * (dout - np.sum(dout * p))\n",
        "only the diagonal term p dout": _SMB + "    return p * dout\n",
        "the course's cross-entropy gradient": _SMB + (
            "    return layers.softmax_cross_entropy(np.log(p), np.argmin(dout, axis=1))[1] * len(p)\n"),
        **SOFTMAX_DELEGATIONS,
    }),
])
test_backprop_guard = guard_tests("3_training/09_backpropagation.ipynb", BACKPROP_PRELUDE, "backprop_softmax_backward",
                                  SOFTMAX_DELEGATIONS)

REG_PRELUDE = """
import numpy as np
import torch
import torch.nn.functional as F
from course_utils import augment, layers
photos = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
linear = {3200: (0.30, 0.31)}
big = {200: (0.0, 0.25)}
"""
_LS = "def smoothed_cross_entropy(logits, labels, eps):\n"
_LOGP = ("    shifted = logits - logits.max(dim=1, keepdim=True).values\n"
         "    log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()\n")
_Q = ("    q = torch.full_like(log_p, eps / logits.shape[1])\n"
      "    q[torch.arange(len(labels)), labels] += 1 - eps\n")
_MIX = "def mix(x1, y1, x2, y2, lam, num_classes):\n    soft = torch.zeros(num_classes)\n"

test_reg_solution, test_reg_wrong = exercise_tests("3_training/11_regularization_and_augmentation.ipynb", REG_PRELUDE, [
    ("reg_dropout", {
        "multiplied by 1 - p": "def inverted_dropout(x, keep, p):\n    return x * keep * (1 - p)\n",
        "divided by p": "def inverted_dropout(x, keep, p):\n    return x * keep / p\n",
        "not rescaled": "def inverted_dropout(x, keep, p):\n    return x * keep\n",
        "kept units zeroed": "def inverted_dropout(x, keep, p):\n    return x * ~keep / (1 - p)\n",
        "the course's dropout": "def inverted_dropout(x, keep, p):\n    return layers.dropout_forward(x, p, mask=keep)[0]\n",
    }),
    ("reg_mixup", {
        "weights of the images swapped": _MIX + (
            "    soft[y1] += lam\n    soft[y2] += 1 - lam\n    return (1 - lam) * x1 + lam * x2, soft\n"),
        "weights of the labels swapped": _MIX + (
            "    soft[y1] += 1 - lam\n    soft[y2] += lam\n    return lam * x1 + (1 - lam) * x2, soft\n"),
        "label weights assigned, not added": _MIX + (
            "    soft[y1] = lam\n    soft[y2] = 1 - lam\n    return lam * x1 + (1 - lam) * x2, soft\n"),
        "four classes always": ("def mix(x1, y1, x2, y2, lam, num_classes):\n    soft = torch.zeros(4)\n"
                                "    soft[y1] += lam\n    soft[y2] += 1 - lam\n    return lam * x1 + (1 - lam) * x2, soft\n"),
        "the course's mixup": ("def mix(x1, y1, x2, y2, lam, num_classes):\n"
                               "    augment.mixup(torch.stack([x1, x2]), torch.tensor([y1, y2]), num_classes)\n"
                               "    soft = torch.zeros(num_classes)\n    soft[y1] += lam\n    soft[y2] += 1 - lam\n"
                               "    return lam * x1 + (1 - lam) * x2, soft\n"),
    }),
    ("reg_diagnose", {
        "variance checked first": ("def diagnose(train_error, val_error, target_error=0.02, tolerance=0.05):\n"
                                   "    if val_error - train_error > tolerance:\n        return 'high variance'\n"
                                   "    if train_error - target_error > tolerance:\n        return 'high bias'\n"
                                   "    return 'good'\n"),
        "bias measured from zero": ("def diagnose(train_error, val_error, target_error=0.02, tolerance=0.05):\n"
                                    "    if train_error > tolerance:\n        return 'high bias'\n"
                                    "    if val_error - train_error > tolerance:\n        return 'high variance'\n"
                                    "    return 'good'\n"),
        "variance measured from the target": (
            "def diagnose(train_error, val_error, target_error=0.02, tolerance=0.05):\n"
            "    if train_error - target_error > tolerance:\n        return 'high bias'\n"
            "    if val_error - target_error > tolerance:\n        return 'high variance'\n"
            "    return 'good'\n"),
        "defaults hard-coded": ("def diagnose(train_error, val_error, target_error=0.02, tolerance=0.05):\n"
                                "    if train_error - 0.02 > 0.05:\n        return 'high bias'\n"
                                "    if val_error - train_error > 0.05:\n        return 'high variance'\n"
                                "    return 'good'\n"),
    }),
    ("reg_label_smoothing", {
        "eps / (K - 1) to the other classes only": _LS + _LOGP + (
            "    k = logits.shape[1]\n    q = torch.full_like(log_p, eps / (k - 1))\n"
            "    q[torch.arange(len(labels)), labels] = 1 - eps\n    return -(q * log_p).sum(dim=1).mean()\n"),
        "one-hot plus eps / K, not scaled by 1 - eps": _LS + _LOGP + (
            "    q = torch.full_like(log_p, eps / logits.shape[1])\n"
            "    q[torch.arange(len(labels)), labels] += 1\n    return -(q * log_p).sum(dim=1).mean()\n"),
        "the uniform term forgotten": _LS + _LOGP + (
            "    return -(1 - eps) * log_p[torch.arange(len(labels)), labels].mean()\n"),
        "summed over the batch": _LS + _LOGP + _Q + "    return -(q * log_p).sum()\n",
        "mean over the classes too": _LS + _LOGP + _Q + "    return -(q * log_p).mean()\n",
        "log of the softmax (not finite for large logits)": _LS + (
            "    log_p = torch.log(torch.softmax(logits, dim=1))\n") + _Q + "    return -(q * log_p).sum(dim=1).mean()\n",
        "torch's cross-entropy": _LS + "    return F.cross_entropy(logits, labels, label_smoothing=eps)\n",
        "the course's cross-entropy": _LS + _LOGP + (
            "    plain = layers.softmax_cross_entropy(logits.numpy(), labels.numpy())[0]\n"
            "    return (1 - eps) * plain - eps * log_p.mean(dim=1).mean()\n"),
    }),
])
