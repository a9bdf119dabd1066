"""The training loop: seeded, early stopping restores the best epoch, frozen stays frozen."""

from __future__ import annotations

import torch
from torch import nn

from medadapt.train.loop import TensorData, TrainConfig, fit, task_loss
from medadapt.train.optim import parameter_groups


def _data(n: int = 64, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return TensorData({"x": x}, y)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.norm(torch.relu(self.body(x))))


def _train(seed: int, *, freeze_body: bool = False, epochs: int = 5):
    torch.manual_seed(seed)
    net = Net()
    if freeze_body:
        net.body.requires_grad_(False)
    result = fit(
        net,
        _data(),
        _data(32, seed=1),
        loss_fn=task_loss("binary"),
        config=TrainConfig(epochs=epochs, batch_size=16, seed=seed, patience=50),
    )
    return net, result


def test_same_seed_same_weights_on_cpu():
    a, _ = _train(3)
    b, _ = _train(3)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_frozen_parameters_do_not_change():
    torch.manual_seed(3)
    before = Net().body.weight.detach().clone()
    net, _ = _train(3, freeze_body=True)
    assert torch.equal(net.body.weight, before)


def test_the_best_validation_epoch_is_restored():
    _net, result = _train(0, epochs=30)
    val_losses = [v for _, v in result.history]
    assert result.best_epoch == 1 + val_losses.index(min(val_losses))
    assert result.best_val_loss == min(val_losses)


def test_no_weight_decay_on_biases_and_norms():
    decay, no_decay = parameter_groups(Net(), 0.1)
    assert {p.dim() for p in decay["params"]} == {2}
    assert len(no_decay["params"]) == 4  # two biases + LayerNorm weight and bias
    assert no_decay["weight_decay"] == 0.0


def test_the_optimizer_updates_all_tensors_at_once_with_the_loop_s_weights_to_the_bit():
    """``make_optimizer`` steps every tensor of a group at once (torch's ``foreach``, not
    its default loop over tensors on a CPU): faster, and the same weights bit for bit."""
    from medadapt.train.optim import make_optimizer

    def trained(foreach: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        torch.manual_seed(0)
        net, data = Net(), _data(n=128, seed=3)
        start = [p.detach().clone() for p in net.parameters()]
        optimizer = make_optimizer(net, lr=1e-2, weight_decay=0.01)
        assert optimizer.defaults["foreach"] is True
        if not foreach:
            optimizer = torch.optim.AdamW(parameter_groups(net, 0.01), lr=1e-2, foreach=False)
        for _ in range(50):
            loss = task_loss("binary")(net(data.inputs["x"]), data.y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return start, [p.detach().clone() for p in net.parameters()]

    (start, at_once), (_, looped) = trained(True), trained(False)
    assert all(torch.equal(a, b) for a, b in zip(at_once, looped, strict=True))
    assert not any(torch.equal(a, b) for a, b in zip(at_once, start, strict=True))  # it trained
