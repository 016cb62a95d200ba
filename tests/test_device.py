"""Where the tagger's models run: `otklik tag --device` / OTKLIK_DEVICE."""

import subprocess
import sys

import pytest
import torch
from conftest import ROOT

from nlp.device import inference_device
from nlp.precision import resolve_precision

NO_GPU = not torch.cuda.is_available()


def test_the_cpu_is_the_default_and_auto_takes_a_gpu_only_where_there_is_one(monkeypatch):
    monkeypatch.delenv("OTKLIK_DEVICE", raising=False)
    assert inference_device().type == "cpu"
    assert inference_device("auto").type == ("cpu" if NO_GPU else "cuda")
    monkeypatch.setenv("OTKLIK_DEVICE", "CPU ")
    assert inference_device().type == "cpu"


def test_an_unknown_device_is_refused_by_name():
    with pytest.raises(ValueError, match="'tpu' is not one of cpu, cuda, auto"):
        inference_device("tpu")


def test_int8_is_refused_on_a_gpu_and_auto_precision_follows_the_device():
    with pytest.raises(ValueError, match="int8 runs on the CPU only"):
        resolve_precision("int8", torch.device("cuda"))
    assert resolve_precision("auto", torch.device("cpu")) in ("bf16", "fp32")
    assert resolve_precision("fp32", torch.device("cuda")) == "fp32"


@pytest.mark.skipif(not NO_GPU, reason="this machine has a GPU")
def test_a_gpu_asked_for_on_a_machine_without_one_is_one_line_before_any_work(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "tag", "--device", "cuda",
                           "--db", str(tmp_path / "none.db")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: device cuda: this machine has no CUDA GPU that torch can use (a CPU build "
        "of torch, or no driver)"]
