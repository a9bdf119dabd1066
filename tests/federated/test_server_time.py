"""The server's "the rounds took N s": the rounds, not the wait for the sites to join."""

from __future__ import annotations

from types import SimpleNamespace

from flwr.app import ArrayRecord

from medadapt.federated import server


def test_the_rounds_time_leaves_out_the_wait_for_the_sites_to_join(monkeypatch):
    """A trial's deployed server said "the rounds took 224 s" of a run whose clients started
    150 s after it: the clock counted the wait for them to join."""
    now = {"t": 0.0}

    def perf_counter() -> float:
        return now["t"]

    def joining(run, grid, strategy, say) -> None:
        now["t"] = 150.0  # the sites took 150 s to join

    class Strategy:
        evaluations, final, failures, train_counts, kept_leaks = [], [], [], {}, {}

        def start(self, **_):
            now["t"] = 224.0  # the rounds: 74 s
            return SimpleNamespace(arrays=ArrayRecord(), train_metrics_clientapp={})

    class Trainable:
        def weights(self) -> dict:
            return {}

    monkeypatch.setattr(server.time, "perf_counter", perf_counter)
    monkeypatch.setattr(server.BaseModel, "load", lambda *a, **k: SimpleNamespace(kind="table"))
    monkeypatch.setattr(server, "modality_of", lambda kind: None)
    monkeypatch.setattr(server, "trainable", lambda run, modality, base: Trainable())
    monkeypatch.setattr(server, "make_strategy", lambda run, say, grid: Strategy())
    monkeypatch.setattr(server, "gather_sites", joining)
    run = SimpleNamespace(base_dir="base", rounds=1, local_epochs=1)
    outcome = server.serve(run, grid=SimpleNamespace())
    assert outcome.seconds == 74.0
