"""Optimizer objects: one step against values computed by hand from the Keras formulas."""
import numpy as np
import pytest

from fastops import optimizers

X0 = [1.0, 2.0, 3.0, 4.0]
G = [1.0, 6.0, 7.0, 2.0]


def step(opt, steps=1, dtype=np.float32):
    w = np.array(X0, dtype)
    g = np.array(G, dtype)
    for _ in range(steps):
        opt.apply([w], [g])
    return w


def test_rmsprop_one_step_as_keras():
    # v = 0.1 g^2; w -= 0.5 g / sqrt(0.1 g^2 + 1e-7) = 0.5 / sqrt(0.1) = 1.5811 per element
    np.testing.assert_allclose(step(optimizers.RMSprop(learning_rate=0.5)),
                               [-0.5811, 0.4189, 1.4189, 2.4189], atol=1e-4)


def test_rmsprop_defaults_and_two_steps():
    opt = optimizers.get("rmsprop")
    assert (opt.learning_rate, opt.rho, opt.epsilon, opt.momentum, opt.centered) == (0.001, 0.9, 1e-7, 0.0, False)
    g = np.array(G)
    v1 = 0.1 * g * g
    w1 = np.array(X0) - 0.001 * g / np.sqrt(v1 + 1e-7)
    v2 = 0.9 * v1 + 0.1 * g * g
    w2 = w1 - 0.001 * g / np.sqrt(v2 + 1e-7)
    np.testing.assert_allclose(step(opt, 2, np.float64), w2, rtol=1e-14)
    assert opt.iterations == 2


def test_sgd_plain_momentum_nesterov():
    np.testing.assert_allclose(step(optimizers.SGD(learning_rate=0.5)), [0.5, -1.0, -0.5, 3.0])
    # two momentum steps: m1 = -lr g, m2 = 0.9 m1 - lr g = -1.9 lr g; w = x - 2.9 lr g
    np.testing.assert_allclose(step(optimizers.SGD(0.1, momentum=0.9), 2, np.float64),
                               np.array(X0) - 2.9 * 0.1 * np.array(G), rtol=1e-14)
    # nesterov: w1 = x + 0.9 m1 - lr g = x - 1.9 lr g; w2 = w1 + 0.9 m2 - lr g = w1 - 2.71 lr g
    np.testing.assert_allclose(step(optimizers.SGD(0.1, momentum=0.9, nesterov=True), 2, np.float64),
                               np.array(X0) - 4.61 * 0.1 * np.array(G), rtol=1e-14)


def test_adagrad_one_step():
    g = np.array(G)
    expected = np.array(X0) - 0.5 * g / np.sqrt(0.1 + g * g + 1e-7)
    np.testing.assert_allclose(step(optimizers.Adagrad(learning_rate=0.5), 1, np.float64), expected, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr():
    # step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001) / 0.1 -> w -= lr * sign(g) (up to eps)
    np.testing.assert_allclose(step(optimizers.Adam(learning_rate=0.5)), [0.5, 1.5, 2.5, 3.5], atol=1e-5)


def test_adam_second_step_by_hand():
    g = np.array(G)
    w = np.array(X0)
    m = v = 0
    for t in (1, 2):
        m = m + (g - m) * 0.1
        v = v + (g * g - v) * 0.001
        w = w - 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(step(optimizers.Adam(0.01), 2, np.float64), w, rtol=1e-13)


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.RMSprop, optimizers.Adagrad, optimizers.Adam])
def test_unknown_keyword_is_rejected_like_keras(cls):
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'lr': 0.1\}"):
        cls(lr=0.1)


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.get("adamw"), "Unknown optimizer"),
    (lambda: optimizers.SGD(momentum=1.5), "momentum"),
    (lambda: optimizers.RMSprop(learning_rate=-1), "learning_rate"),
    (lambda: optimizers.RMSprop(rho=2), "rho"),
])
def test_bad_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_get_passes_instances_through_and_rejects_other_types():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    with pytest.raises(TypeError):
        optimizers.get(0.1)


def test_slots_are_keyed_by_variable_not_position():
    """A second variable appearing, or the order changing, never resets a slot."""
    opt = optimizers.RMSprop(learning_rate=0.1)
    a, b = np.ones(3), np.ones(2)
    g = np.full(3, 2.0)
    opt.apply([a], [g])
    velocity = opt.slots_for(a)["velocity"].copy()
    opt.apply([b, a], [np.ones(2), g])
    np.testing.assert_allclose(opt.slots_for(a)["velocity"], 0.9 * velocity + 0.1 * 4.0)
    np.testing.assert_allclose(opt.slots_for(b)["velocity"], 0.1)


def test_learning_rate_is_settable_and_checked():
    opt = optimizers.SGD(learning_rate=0.5)
    w = np.array([1.0])
    opt.apply([w], [np.array([1.0])])
    opt.learning_rate = 0.25
    opt.apply([w], [np.array([1.0])])
    np.testing.assert_allclose(w, [0.25])
    for bad in (0, -1.0, float("nan"), "0.1", None):
        with pytest.raises(ValueError, match="learning_rate"):
            opt.learning_rate = bad
    assert opt.learning_rate == 0.25


def test_l2_is_folded_into_the_step_and_the_penalty_returned():
    from fastops import regularizers
    w = np.array([1.0, -2.0])
    penalty = optimizers.SGD(learning_rate=0.1).apply([w], [np.zeros(2)], [regularizers.l2(0.5)])
    assert penalty == pytest.approx(0.5 * 5)
    np.testing.assert_allclose(w, [1.0 - 0.1 * 2 * 0.5 * 1.0, -2.0 + 0.1 * 2 * 0.5 * 2.0])


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.RMSprop, optimizers.Adagrad, optimizers.Adam])
def test_config_is_keras_3_and_round_trips(cls):
    cfg = cls().get_config()
    assert cfg["weight_decay"] is None and cfg["use_ema"] is False and "learning_rate" in cfg
    again = optimizers.get({"module": "keras.optimizers", "class_name": cls.__name__,
                            "config": cfg, "registered_name": None})
    assert type(again) is cls and again.get_config() == cfg
    with pytest.raises(ValueError, match="not supported"):
        cls(clipnorm=1.0)
