"""The digits CNN through the tutorial-style front end: layers added by name, shapes inferred,
one optimizer per layer chosen by name.

    python examples/layer_manager_digits.py
"""

import tinygrad_cnn as tc
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.layers import LayerManager

tc.manual_seed(0)
train, test = load_digits()

lm = LayerManager(opt="Adam", opt_dic={"lr": 2e-3})
lm.append(name="c", I_shape=(1, 8, 8), F_shape=(32, 3, 3), pad="same", act="ReLU")
lm.append(name="p", pool=2)
lm.append(name="c", F_shape=(64, 3, 3), pad="same", act="ReLU")
lm.append(name="p", pool=2)
lm.append(name="m", n=64, act="ReLU", opt="AdaBelief", opt_dic={"lr": 2e-3})
lm.append(name="o", n=10)
print(lm)

history = lm.fit(
    train.images, train.labels, epochs=25, batch_size=32, x_test=test.images, t_test=test.labels
)
print(f"test accuracy {lm.accuracy(test.images, test.labels):.4f}")
