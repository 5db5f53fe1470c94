"""The signed model registry: round trips, versions, and every way a model is refused."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from seclearn.errors import IntegrityError, ModelNotFoundError, RegistryError
from seclearn.registry import (
    MANIFEST_NAME,
    key_id,
    list_models,
    load_model,
    models_dir,
    save_model,
    show_model,
    sign_model,
    verify_model,
)
from seclearn.registry._manifest import TRACKED_LIBRARIES
from seclearn.registry._signing import sign_bytes
from seclearn.registry._verify import SIGNATURE_NAME

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


class FakePipeline:
    """Writes JSON and .npz like the real pipeline, with the same save/load/metadata API."""

    def __init__(self, weights: np.ndarray | None = None) -> None:
        self.weights = np.arange(6, dtype="float64") if weights is None else weights
        self.operating_point_ = {
            "policy": "target_fpr",
            "target_fpr": 0.01,
            "threshold": 0.73,
            "chosen_on": "oof",
        }

    def metadata(self) -> dict:
        return {
            "detector": {"name": "fake", "kind": "supervised", "params": {"depth": 3}},
            "schema_fingerprint": "abc123",
            "n_train": 10,
            "class_counts": {0: 8, 1: 2},
            "oof_metrics": {"roc_auc": np.float64(0.9)},
        }

    def save(self, folder: Path) -> list[Path]:
        (folder / "model").mkdir()
        params = folder / "params.json"
        params.write_text(json.dumps({"operating_point": self.operating_point_}))
        arrays = folder / "model" / "weights.npz"
        np.savez(arrays, weights=self.weights)
        return [params, arrays]

    @classmethod
    def load(cls, folder: Path) -> FakePipeline:
        with np.load(folder / "model" / "weights.npz", allow_pickle=False) as data:
            obj = cls(data["weights"])
        obj.operating_point_ = json.loads((folder / "params.json").read_text())["operating_point"]
        return obj


class RecordingLoader:
    """A loader that must never run: it records the call and fails the test."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, folder: Path):
        self.calls.append(folder)
        raise AssertionError(f"the pipeline loader ran on an unverified model: {folder}")


@pytest.fixture
def saved(workspace: Path):
    ref = save_model(
        FakePipeline(),
        "flows",
        root=workspace,
        key=KEY,
        metrics={"f1": 0.5},
        dataset={"name": "d1"},
    )
    return ref


def _refused(ref, workspace: Path, match: str, key: bytes = KEY) -> None:
    loader = RecordingLoader()
    with pytest.raises(IntegrityError, match=match):
        load_model(ref, root=workspace, key=key, loader=loader)
    assert loader.calls == []


# --- round trips and versions ---------------------------------------------------------


def test_saved_model_loads_back_by_name_version_and_path(workspace, saved):
    assert (saved.name, saved.version) == ("flows", 1)
    assert saved.path == models_dir(workspace) / "flows" / "1"
    for ref in ("flows", "flows@1", "flows@latest", str(saved.path), saved.path):
        pipeline, manifest = load_model(ref, root=workspace, key=KEY, loader=FakePipeline.load)
        np.testing.assert_array_equal(pipeline.weights, np.arange(6, dtype="float64"))
        assert pipeline.operating_point_["threshold"] == 0.73
        assert manifest["name"] == "flows" and manifest["version"] == 1


def test_manifest_records_versions_lineage_operating_point_and_file_hashes(saved):
    manifest = json.loads((saved.path / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == 1
    assert manifest["stage"] == "candidate"
    assert set(manifest["libraries"]) == set(TRACKED_LIBRARIES)
    assert manifest["libraries"]["numpy"] == np.__version__
    assert manifest["operating_point"]["threshold"] == 0.73
    assert manifest["pipeline"]["detector"]["name"] == "fake"
    assert manifest["pipeline"]["class_counts"] == {"0": 8, "1": 2}
    assert manifest["metrics"] == {"f1": 0.5} and manifest["dataset"] == {"name": "d1"}
    assert set(manifest["files"]) == {"params.json", "model/weights.npz"}
    entry = manifest["files"]["model/weights.npz"]
    assert entry["size_bytes"] == (saved.path / "model" / "weights.npz").stat().st_size
    signature = (saved.path / SIGNATURE_NAME).read_text().strip()
    assert signature.startswith(f"hmac-sha256:{key_id(KEY)}:")


def test_versions_increase_and_name_alone_loads_the_latest(workspace):
    refs = [
        save_model(FakePipeline(np.full(3, float(i))), "flows", root=workspace, key=KEY)
        for i in range(3)
    ]
    assert [r.version for r in refs] == [1, 2, 3]
    pipeline, manifest = load_model("flows", root=workspace, key=KEY, loader=FakePipeline.load)
    assert manifest["version"] == 3
    np.testing.assert_array_equal(pipeline.weights, np.full(3, 2.0))
    older, _ = load_model("flows@2", root=workspace, key=KEY, loader=FakePipeline.load)
    np.testing.assert_array_equal(older.weights, np.full(3, 1.0))


def test_concurrent_saves_get_distinct_versions(workspace):
    versions: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        ref = save_model(FakePipeline(), "flows", root=workspace, key=KEY)
        with lock:
            versions.append(ref.version)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]
    for v in versions:
        verify_model(models_dir(workspace) / "flows" / str(v), KEY)
    assert sorted(p.name for p in (models_dir(workspace) / "flows").iterdir()) == sorted(
        map(str, versions)
    )


def test_loader_receives_a_verified_copy_not_the_registry_folder(workspace, saved):
    seen: list[Path] = []

    def loader(folder: Path):
        seen.append(folder)
        return FakePipeline.load(folder)

    load_model("flows", root=workspace, key=KEY, loader=loader)
    assert seen and seen[0] != saved.path and not seen[0].exists()


def test_failed_save_leaves_no_version_and_no_temp_folder(workspace):
    class Broken(FakePipeline):
        def save(self, folder: Path) -> list[Path]:
            (folder / "half.json").write_text("{}")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_model(Broken(), "flows", root=workspace, key=KEY)
    assert list((models_dir(workspace) / "flows").iterdir()) == []


def test_save_refuses_a_pipeline_that_writes_a_symlink(workspace, tmp_path):
    class Linker(FakePipeline):
        def save(self, folder: Path) -> list[Path]:
            (tmp_path / "outside.json").write_text("{}")
            (folder / "link.json").symlink_to(tmp_path / "outside.json")
            return [folder / "link.json"]

    with pytest.raises(IntegrityError, match="symlink"):
        save_model(Linker(), "flows", root=workspace, key=KEY)
    assert list((models_dir(workspace) / "flows").iterdir()) == []


# --- refusals: nothing is parsed or loaded -------------------------------------------


def test_unsigned_model_is_refused_with_how_to_fix(workspace, saved):
    (saved.path / SIGNATURE_NAME).unlink()
    _refused("flows", workspace, r"not signed.*seclearn models sign")


def test_wrong_key_error_names_both_key_ids(workspace, saved):
    _refused(
        "flows",
        workspace,
        rf"key id {key_id(KEY)}, the configured key is {key_id(OTHER_KEY)}.*SECLEARN_SIGNING_KEY",
        key=OTHER_KEY,
    )


def test_tampered_manifest_is_refused_before_json_parsing(workspace, saved):
    path = saved.path / MANIFEST_NAME
    path.write_bytes(path.read_bytes().replace(b'"threshold": 0.73', b'"threshold": 0.01'))
    _refused("flows", workspace, "manifest was modified after signing")
    path.write_bytes(b"{not json")
    _refused("flows", workspace, "manifest was modified after signing")


@pytest.mark.parametrize("same_size", [True, False])
def test_tampered_model_file_is_refused_naming_the_file(workspace, saved, same_size):
    path = saved.path / "model" / "weights.npz"
    data = bytearray(path.read_bytes())
    if same_size:
        data[-20] ^= 0xFF
    else:
        data += b"\x00"
    path.write_bytes(bytes(data))
    _refused("flows", workspace, r"file model/weights\.npz was modified after signing")


def test_missing_model_file_is_refused(workspace, saved):
    (saved.path / "params.json").unlink()
    _refused("flows", workspace, r"params\.json listed in the manifest is missing")


def test_extra_file_is_refused_naming_it(workspace, saved):
    (saved.path / "model" / "evil.pkl").write_bytes(b"cos\nsystem\n")
    _refused("flows", workspace, r"does not list: model/evil\.pkl")


def test_symlinked_model_file_is_refused(workspace, saved, tmp_path):
    target = saved.path / "params.json"
    copy = tmp_path / "params.json"
    copy.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(copy)
    _refused("flows", workspace, r"params\.json is a symlink")


def test_symlinked_manifest_is_refused(workspace, saved, tmp_path):
    path = saved.path / MANIFEST_NAME
    copy = tmp_path / MANIFEST_NAME
    copy.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(copy)
    _refused("flows", workspace, r"manifest\.json is a symlink")


@pytest.mark.parametrize(
    "bad_name", ["../outside.json", "/etc/passwd", "model/../../x", "a\\..\\b", "./params.json"]
)
def test_signed_manifest_with_escaping_file_name_is_refused(workspace, saved, bad_name):
    path = saved.path / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    manifest["files"][bad_name] = {"sha256": "0" * 64, "size_bytes": 1}
    raw = json.dumps(manifest).encode()
    path.write_bytes(raw)
    (saved.path / SIGNATURE_NAME).write_text(sign_bytes(raw, KEY) + "\n")
    _refused("flows", workspace, "escapes or is not a plain relative path")


def test_oversized_manifest_is_refused_without_reading_it_all(workspace, saved, monkeypatch):
    monkeypatch.setattr("seclearn.registry._verify.MAX_MANIFEST_BYTES", 64)
    _refused("flows", workspace, "larger than the limit of 64 bytes")


def test_malformed_signature_file_is_refused(workspace, saved):
    (saved.path / SIGNATURE_NAME).write_text("hmac-sha256:zz:00\n")
    _refused("flows", workspace, "manifest.sig is malformed")


def test_older_version_copied_over_a_newer_one_is_refused_by_name(workspace):
    save_model(FakePipeline(np.zeros(2)), "flows", root=workspace, key=KEY)
    v2 = save_model(FakePipeline(np.ones(2)), "flows", root=workspace, key=KEY)
    v1 = models_dir(workspace) / "flows" / "1"
    for name in (MANIFEST_NAME, SIGNATURE_NAME, "params.json", "model/weights.npz"):
        (v2.path / name).write_bytes((v1 / name).read_bytes())
    _refused("flows@2", workspace, r"signed manifest describes flows@1")


# --- names, refs, listing -------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil", "Flows", "", "a" * 65, "-x", "a/b", "a b"])
def test_invalid_model_names_are_refused(workspace, name):
    with pytest.raises(RegistryError, match="Invalid model name"):
        save_model(FakePipeline(), name, root=workspace, key=KEY)
    assert not models_dir(workspace).exists() or list(models_dir(workspace).iterdir()) == []


def test_unknown_model_error_lists_known_names_and_versions(workspace, saved):
    with pytest.raises(ModelNotFoundError, match=r"Known models: flows \(versions 1\)"):
        load_model("dns", root=workspace, key=KEY)
    with pytest.raises(ModelNotFoundError, match="has no version 7; it has versions 1"):
        load_model("flows@7", root=workspace, key=KEY)
    with pytest.raises(RegistryError, match="Invalid model name"):
        load_model("Flows@1", root=workspace, key=KEY)


def test_short_key_is_refused(workspace):
    with pytest.raises(RegistryError, match="at least 16 bytes"):
        save_model(FakePipeline(), "flows", root=workspace, key=b"short")


def test_list_models_shows_every_version_and_skips_temp_folders(workspace, saved):
    save_model(FakePipeline(), "flows", root=workspace, key=KEY)
    save_model(FakePipeline(), "dns", root=workspace, key=KEY)
    (models_dir(workspace) / "flows" / ".tmp-abandoned").mkdir()
    rows = list_models(workspace)
    assert [(r["name"], r["version"]) for r in rows] == [("dns", 1), ("flows", 1), ("flows", 2)]
    assert rows[0]["detector"] == "fake" and rows[0]["threshold"] == 0.73
    assert {r["signature"] for r in rows} == {"unchecked"}
    assert {r["signature"] for r in list_models(workspace, key=KEY)} == {"valid"}
    assert list_models(workspace / "nowhere") == []


def test_show_model_reports_valid_invalid_and_unchecked_signatures(workspace, saved):
    assert show_model("flows", root=workspace, key=KEY)["signature"] == "valid"
    unchecked = show_model("flows@1", root=workspace)
    assert unchecked["signature"] == "unchecked" and unchecked["name"] == "flows"
    assert unchecked["path"] == str(saved.path) and unchecked["problem"] is None
    (saved.path / "params.json").write_text("{}")
    shown = show_model("flows", root=workspace, key=KEY)
    assert shown["signature"] == "invalid"
    assert "params.json was modified after signing" in shown["problem"]
    assert shown["version"] == 1


def test_sign_model_signs_an_unsigned_consistent_folder_once(workspace, saved):
    (saved.path / SIGNATURE_NAME).unlink()
    sign_model(saved.path, key=OTHER_KEY)
    assert verify_model(saved.path, OTHER_KEY)["name"] == "flows"
    with pytest.raises(RegistryError, match="already signed"):
        sign_model(saved.path, key=KEY)
    sign_model(saved.path, key=KEY, overwrite=True)
    assert verify_model(saved.path, KEY)["version"] == 1


def test_sign_model_refuses_a_folder_whose_files_do_not_match(workspace, saved):
    (saved.path / SIGNATURE_NAME).unlink()
    (saved.path / "params.json").write_text("{}")
    with pytest.raises(IntegrityError, match=r"params\.json was modified"):
        sign_model(saved.path, key=KEY)
    assert not (saved.path / SIGNATURE_NAME).exists()


def test_saved_files_are_not_executable(saved):
    for path in saved.path.rglob("*"):
        if path.is_file():
            assert not os.access(path, os.X_OK), path


def test_missing_model_folder_is_model_not_found(workspace):
    with pytest.raises(ModelNotFoundError, match="expected a model folder"):
        load_model(str(workspace / "nowhere" / "1"), root=workspace, key=KEY)
