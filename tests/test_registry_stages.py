"""Registry stages: champion resolution, gated promotion, byte-for-byte rollback, tampering."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from seclearn.errors import IntegrityError, ModelNotFoundError, RegistryError
from seclearn.registry import (
    champion,
    list_models,
    load_model,
    models_dir,
    pin_holdout,
    promote,
    record_gates,
    rollback,
    save_model,
    stages,
)
from seclearn.registry._stages import STAGES_NAME, STAGES_SIGNATURE
from test_registry import KEY, OTHER_KEY, FakePipeline


def _save(root: Path, n: int = 3) -> list[int]:
    return [
        save_model(FakePipeline(np.full(4, float(i))), "m", root=root, key=KEY).version
        for i in range(n)
    ]


def _weights(root: Path, ref: str) -> float:
    pipeline, _ = load_model(ref, root=root, key=KEY, loader=FakePipeline.load)
    return float(pipeline.weights[0])


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _pass(root: Path, version: int) -> None:
    record_gates("m", version, root=root, key=KEY, passed=True, report={"summary": "ok"})


def test_a_bare_name_is_the_newest_version_until_one_is_promoted(tmp_path):
    _save(tmp_path)
    assert champion("m", root=tmp_path, key=KEY) is None
    assert _weights(tmp_path, "m") == 2.0
    with pytest.raises(ModelNotFoundError, match="no champion"):
        load_model("m@champion", root=tmp_path, key=KEY, loader=FakePipeline.load)


def test_promotion_needs_passed_gates_unless_forced(tmp_path):
    _save(tmp_path)
    with pytest.raises(RegistryError, match="no gate verdict"):
        promote("m", 2, root=tmp_path, key=KEY, by="ci")
    record_gates("m", 2, root=tmp_path, key=KEY, passed=False, report={"summary": "worse"})
    with pytest.raises(RegistryError, match="gates failed"):
        promote("m", 2, root=tmp_path, key=KEY, by="ci")
    forced = promote("m", 2, root=tmp_path, key=KEY, by="alice", reason="incident", force=True)
    assert forced.forced and forced.previous is None
    assert champion("m", root=tmp_path, key=KEY) == 2
    assert _weights(tmp_path, "m") == 1.0  # the champion, not the newest (3)
    assert _weights(tmp_path, "m@latest") == 2.0
    with pytest.raises(RegistryError, match="already the champion"):
        promote("m", 2, root=tmp_path, key=KEY, by="ci", force=True)


def test_rollback_restores_the_previous_champion_byte_for_byte_and_walks_back(tmp_path):
    _save(tmp_path)
    for v in (1, 2, 3):
        _pass(tmp_path, v)
        promote("m", v, root=tmp_path, key=KEY, by="ci")
    before = {v: _tree(models_dir(tmp_path) / "m" / str(v)) for v in (1, 2)}
    first = rollback("m", root=tmp_path, key=KEY, by="bob", reason="alert storm")
    assert (first.version, first.previous) == (2, 3)
    _, manifest = load_model("m", root=tmp_path, key=KEY, loader=FakePipeline.load)
    assert manifest["version"] == 2 and _tree(models_dir(tmp_path) / "m" / "2") == before[2]
    second = rollback("m", root=tmp_path, key=KEY, by="bob")
    assert (second.version, second.previous) == (1, 2)  # further back, not back to 3
    assert _weights(tmp_path, "m") == 0.0
    with pytest.raises(RegistryError, match="no earlier champion"):
        rollback("m", root=tmp_path, key=KEY, by="bob")
    actions = [c["action"] for c in stages("m", root=tmp_path, key=KEY)["history"]]
    assert actions == ["promote", "promote", "promote", "rollback", "rollback"]
    rows = {r["version"]: r["stage"] for r in list_models(tmp_path, key=KEY)}
    assert rows == {1: "champion", 2: "retired", 3: "retired"}


def test_rollback_refuses_a_previous_champion_whose_manifest_changed(tmp_path):
    _save(tmp_path, 2)
    for v in (1, 2):
        _pass(tmp_path, v)
        promote("m", v, root=tmp_path, key=KEY, by="ci")
    # re-sign version 1 with a changed manifest: valid signature, different model record
    folder = models_dir(tmp_path) / "m" / "1"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["extra"] = {"note": "edited"}
    raw = json.dumps(manifest).encode()
    (folder / "manifest.json").write_bytes(raw)
    from seclearn.registry._signing import sign_bytes

    (folder / "manifest.sig").write_text(sign_bytes(raw, KEY) + "\n")
    with pytest.raises(IntegrityError, match="manifest changed"):
        rollback("m", root=tmp_path, key=KEY, by="bob")
    assert champion("m", root=tmp_path, key=KEY) == 2


@pytest.mark.parametrize("attack", ["edit", "unsigned", "other_key", "copied"])
def test_a_tampered_stages_file_is_refused_before_anything_is_served(tmp_path, attack):
    _save(tmp_path, 2)
    for v in (1, 2):
        _pass(tmp_path, v)
        promote("m", v, root=tmp_path, key=KEY, by="ci")
    model_dir = models_dir(tmp_path) / "m"
    doc = json.loads((model_dir / STAGES_NAME).read_text())
    if attack == "edit":  # downgrade: point the champion at version 1
        doc["champion"]["version"] = 1
        (model_dir / STAGES_NAME).write_text(json.dumps(doc))
    elif attack == "unsigned":
        (model_dir / STAGES_SIGNATURE).unlink()
    elif attack == "other_key":
        with pytest.raises(IntegrityError):
            stages("m", root=tmp_path, key=OTHER_KEY)
        return
    else:
        save_model(FakePipeline(), "n", root=tmp_path, key=KEY)
        for name in (STAGES_NAME, STAGES_SIGNATURE):
            (models_dir(tmp_path) / "n" / name).write_bytes((model_dir / name).read_bytes())
        with pytest.raises(IntegrityError, match="copied between models"):
            load_model("n", root=tmp_path, key=KEY, loader=FakePipeline.load)
        return
    with pytest.raises(IntegrityError):
        load_model("m", root=tmp_path, key=KEY, loader=FakePipeline.load)


def test_the_trusted_holdout_is_pinned_and_a_changed_one_refused(tmp_path):
    _save(tmp_path, 1)
    first = pin_holdout(
        "m", {"name": "trusted", "content_fingerprint": "aa"}, root=tmp_path, key=KEY
    )
    assert first["name"] == "trusted"
    again = pin_holdout(
        "m", {"name": "trusted", "content_fingerprint": "aa"}, root=tmp_path, key=KEY
    )
    assert again["pinned_at"] == first["pinned_at"]
    with pytest.raises(RegistryError, match=r"must not\s+change"):
        pin_holdout("m", {"name": "trusted", "content_fingerprint": "bb"}, root=tmp_path, key=KEY)
    repinned = pin_holdout(
        "m", {"name": "t2", "content_fingerprint": "bb"}, root=tmp_path, key=KEY, repin=True
    )
    assert repinned["content_fingerprint"] == "bb"


def test_concurrent_promotions_keep_a_consistent_history(tmp_path):
    versions = _save(tmp_path, 6)
    for v in versions:
        _pass(tmp_path, v)
    errors: list[Exception] = []

    def go(v: int) -> None:
        try:
            promote("m", v, root=tmp_path, key=KEY, by=f"job{v}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    history = stages("m", root=tmp_path, key=KEY)["history"]
    assert sorted(c["version"] for c in history) == versions
    # each change names the champion just before it: a chain with no lost update
    assert [c["previous"] for c in history] == [None] + [c["version"] for c in history[:-1]]
