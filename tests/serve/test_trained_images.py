"""How the server tells the images a model trained on (``serve/trained_images.py``), on keys
made here: the same rules as ``predict``'s, without a trained model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PIL import Image

from medadapt.data.stored_pixels import (
    NEAR_BITS,
    NEAR_KEYS,
    NEAR_WORDS,
    STORED_KEYS,
    alike_within,
    near_matches,
    pack_near,
    read_keys,
    stored_matches_of_files,
)
from medadapt.serve.trained_images import TrainingImages, near_copies, pooled_within


def _sample(file_key=None, pixel_key=None, stored_key=None, near_key=b""):
    return SimpleNamespace(file_key=file_key, pixel_key=pixel_key, stored_key=stored_key,
                           near_key=near_key)  # fmt: skip


def _keys(seed: int, n: int) -> np.ndarray:
    """``n`` random near keys (about 256 bits apart from each other)."""
    return np.random.default_rng(seed).integers(0, 2**63, (n, NEAR_WORDS), dtype=np.uint64)


def test_a_record_is_read_by_each_of_its_keys_and_a_damaged_one_is_left_out():
    record = {"train_keys": ["f1"], "train_pixel_keys": ["p1"], STORED_KEYS: "not a list",
              NEAR_KEYS: ["zz"]}  # fmt: skip
    images = TrainingImages.of(record)
    assert images.stored == frozenset() and images.near.shape == (0, NEAR_WORDS)
    found = images.matches([_sample("f1"), _sample(pixel_key="p1"), _sample(stored_key="s1")])
    assert found.tolist() == [True, True, False]  # the bad field costs its own matches only
    assert TrainingImages.of({STORED_KEYS: ["s1"]}).matches([_sample(stored_key="s1")]).all()
    assert TrainingImages.of({"train_keys": [], NEAR_KEYS: []}) is None
    # an upload's file is read for keys only where a model records some (older splits: none)
    assert not images.reads_files and TrainingImages.of({STORED_KEYS: ["s1"]}).reads_files
    assert TrainingImages.of({NEAR_KEYS: pack_near(_keys(0, 1))}).reads_files


def test_a_near_copy_is_told_by_its_key_within_the_pooled_bits():
    keys = _keys(0, 30)
    images = TrainingImages.of({NEAR_KEYS: pack_near(keys)})
    close = keys[3].copy()
    close[0] ^= np.uint64(0b111)  # 3 bits changed: a lossy re-save
    samples = [_sample(near_key=close.tobytes()), _sample(near_key=_keys(1, 1)[0].tobytes()),
               _sample()]  # fmt: skip
    within = pooled_within((images,))
    assert within == alike_within(keys) == NEAR_BITS  # keys this far apart allow all 40 bits
    assert near_copies((images,), samples).tolist() == [True, False, False]


def test_pooled_bits_are_those_of_the_base_and_adapter_images_together():
    """``predict`` pools a base's and its adapter's near keys before it sets how many bits a
    near-copy may differ by; the server did it per model, so it could call an image a
    near-copy that ``predict`` does not."""
    base = _keys(2, 30)
    adapter = np.concatenate([base, base])  # two variants of each base image, 1 bit off it
    adapter[:30, 0] ^= np.uint64(1)
    adapter[30:, 1] ^= np.uint64(1)
    first = TrainingImages.of({NEAR_KEYS: pack_near(base)})
    second = TrainingImages.of({NEAR_KEYS: pack_near(adapter)})
    assert pooled_within((first,)) == pooled_within((second,)) == NEAR_BITS  # each alone
    pooled = pooled_within((first, second))
    assert pooled == alike_within(np.concatenate([base, adapter])) < 3  # alike together
    three_off = base[0].copy()
    three_off[2] ^= np.uint64(0b111)
    sample = [_sample(near_key=three_off.tobytes())]
    assert near_matches(three_off[None], first.near, NEAR_BITS).tolist() == [True]  # it said
    assert near_copies((first, second), sample).tolist() == [False]  # as predict says


def test_predict_tells_each_model_s_images_by_stored_values_even_when_another_matched(tmp_path):
    """A file's stored key is read for every model that did not match it already: an image
    the base matched by its pixels is still the adapter's by its stored values."""
    values = np.random.default_rng(0).integers(0, 255, (24, 24), dtype=np.uint8)
    path = tmp_path / "image.png"
    Image.fromarray(values).save(path)
    stored, _ = read_keys(path)
    records = [{STORED_KEYS: ["other"]}, {STORED_KEYS: [stored]}, None]
    masks = stored_matches_of_files([str(path), None], records, np.array([0, 1]))
    assert [m.tolist() for m in masks] == [[False, False], [True, False], [False, False]]
    untold = stored_matches_of_files([str(path)], records, np.array([], dtype=int))
    assert [m.tolist() for m in untold] == [[False], [False], [False]]


def test_the_server_holds_numpy_s_blas_to_one_thread(tmp_path):
    """Each decoding thread reads an upload's near key (a small matrix product); numpy's BLAS
    threads on top of the pool's spun: 5.6 ms of CPU an image, not 2.1 (two threads)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from medadapt.registry import Registry
    from medadapt.serve.app import create_app

    Registry(tmp_path / "reg", create=True)
    with threadpool_limits(limits=2, user_api="blas"):  # restored on leaving
        create_app(tmp_path / "reg")
        assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
