"""What goes on the wire: adapter tensors as float32 ArrayRecords, and the audit's bytes."""

from __future__ import annotations

import numpy as np
import torch
from flwr.app import Array, ArrayRecord

from medadapt.federated.wire import as_float32, from_arrays, full_model_bytes, to_arrays


def test_tensors_round_trip_as_float32_whatever_their_dtype():
    weights = {"a.lora_A.weight": torch.randn(4, 3, dtype=torch.float64), "b": torch.ones(2)}
    record = to_arrays(weights)
    assert {k: v.dtype for k, v in record.items()} == {"a.lora_A.weight": "float32", "b": "float32"}
    back = from_arrays(record)
    assert back["a.lora_A.weight"].dtype == torch.float32
    torch.testing.assert_close(back["a.lora_A.weight"], weights["a.lora_A.weight"].float())
    assert record.count_bytes() >= 4 * (12 + 2)


def test_float64_from_fedadam_goes_back_as_float32():
    record = ArrayRecord({"w": Array(np.arange(6, dtype=np.float64))})
    cast = as_float32(record)
    assert cast["w"].dtype == "float32" and cast.count_bytes() < record.count_bytes()
    np.testing.assert_array_equal(cast["w"].numpy(), np.arange(6, dtype=np.float32))


def test_full_model_bytes_count_every_tensor():
    model = torch.nn.Linear(10, 5)
    assert full_model_bytes(model) >= 4 * (50 + 5)
    assert full_model_bytes(model) < 4 * (50 + 5) + 1024  # plus keys and headers only


def test_a_site_s_unexpected_error_leaves_it_without_its_message(caplog):
    from medadapt.errors import DataError
    from medadapt.federated.client import error_reason

    leaked = ValueError("could not convert string to float: 'DOE^JOHN'")
    with caplog.at_level("ERROR", logger="medadapt.federated.site"):
        told = error_reason(leaked)
    assert told == "internal error ValueError (details in the site's own log)"
    assert "DOE^JOHN" in caplog.text  # kept where the data is
    ours = DataError("--label num is not a column of hungary.csv")
    assert error_reason(ours) == str(ours)  # medadapt's own messages name no values
