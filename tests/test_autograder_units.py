"""The autograder's parts: definitions-only extraction, the registry, the CLI's contract, the nbgrader entry
point `autograder.check`, determinism, the strict wire format, and the isolation levels."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import autograder
from autograder import cli, notebook, registry, sandbox
from autograder.grade import grade_file
from autograder.jail import extract
from submissions import corpus


def _kept_source(code: extract.Code) -> list[str]:
    import ast

    kept = []
    for cell in code.cells:
        body = ast.parse(cell.source).body
        kept += [ast.unparse(body[i]) for i in cell.keep]
    return kept


def test_extraction_keeps_definitions_and_drops_everything_else():
    source = '''
import torch
from torch import nn as neural
LATENT = 16
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SIZES = (LATENT * 2, [1, 2], {"a": -1})
model = ConvVAE()
history = train_vae(model, loader, epochs=10)
for step in range(10):
    print(step)
while True:
    pass
torch.allclose = lambda *a, **k: True
try:
    from tqdm.auto import tqdm
except ImportError:
    tqdm = None
try:
    train()
except Exception:
    pass

def f(x):
    return x

class A:
    pass

if __name__ == "__main__":
    main()
'''
    kept = _kept_source(extract.definitions([("cell 1", source)]))
    assert kept[:5] == ["import torch", "from torch import nn as neural", "LATENT = 16",
                        "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
                        "SIZES = (LATENT * 2, [1, 2], {'a': -1})"]
    assert kept[5].startswith("try:\n    from tqdm.auto import tqdm")
    assert kept[6:] == ["def f(x):\n    return x", "class A:\n    pass"]


def _notebook(path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# VAE")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(notebook, path)
    return path


def test_notebook_extraction_translates_magics_skips_broken_and_test_cells(tmp_path):
    path = _notebook(tmp_path / "submission.ipynb", [
        "%matplotlib inline\n!pip install nothing\nimport math",
        "def broken(:\n    pass",
        "def lerp(z1, z2, steps):\n    return z1",
        'import autograder\nautograder.check("interpolation", "lerp", globals(), points=3)',
    ])
    code = extract.from_bytes(path.name, path.read_bytes())
    assert [cell.label for cell in code.cells] == ["cell 2", "cell 4"]
    assert _kept_source(code) == ["import math", "def lerp(z1, z2, steps):\n    return z1"]
    assert len(code.notes) == 1 and code.notes[0].startswith("cell 3 does not parse (line 1")


def test_input_history_extraction_leaves_out_the_calling_cell():
    history = ["", "import torch", "def f():\n    return 1", 'autograder.check("conv_vae", "kl_divergence", globals())']
    code = extract.definitions(notebook.namespace_sources({"In": history})["sources"])
    assert [cell.label for cell in code.cells] == ["In[1]", "In[2]"]


def test_registry_totals_and_max_points():
    assert {a: registry.total_points(a) for a in registry.POINTS} == {"conv_vae": 20, "interpolation": 10,
                                                                     "new_dataset": 12}
    assert autograder.max_points("conv_vae", "kl_divergence") == 3
    with pytest.raises(registry.GradingError, match="unknown check"):
        autograder.max_points("conv_vae", "nope")


def test_every_registered_check_has_inputs_probe_and_judge():
    from autograder import checks
    from autograder.jail import probes

    for assignment in registry.POINTS:
        assert list(checks.load(assignment)) == registry.check_names(assignment)
        assert sorted(probes.load(assignment)) == sorted(registry.check_names(assignment))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [
    (("grade", "no_such_assignment", "x.py"), "error: unknown assignment 'no_such_assignment'"),
    (("grade", "conv_vae", "missing.ipynb"), "error: no such submission file: missing.ipynb"),
    (("grade-folder", "conv_vae", "missing_dir"), "error: no such folder: missing_dir"),
])
def test_cli_usage_errors_are_one_line_with_status_2(args, message):
    done = _cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_cli_json_and_table_for_a_notebook(tmp_path, capsys):
    """A notebook whose lerp misses the endpoint: JSON has the contract's shape, the table says the same."""
    wrong = (corpus.ROOT / "interpolation" / "wrong" / "lerp_no_endpoint.py").read_text()
    path = _notebook(tmp_path / "student.ipynb", [corpus.reference_source("interpolation"), wrong,
                                                  "lerp(torch.zeros(3), torch.ones(3), 5)  # a call: not graded"])
    done = _cli("grade", "interpolation", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"assignment", "score", "max_score", "isolation", "checks"}
    assert report["isolation"] == sandbox.isolation().level
    assert (report["assignment"], report["score"], report["max_score"]) == ("interpolation", 7.0, 10.0)
    assert [set(c) for c in report["checks"]] == [{"name", "points", "max_points", "passed", "message"}] * 3
    lerp = report["checks"][0]
    assert (lerp["name"], lerp["points"], lerp["passed"]) == ("lerp", 0.0, False)
    assert "stops short of 1" in lerp["message"]
    assert cli.main(["grade", "interpolation", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "student.ipynb" and table[2].startswith("lerp") and " 0/3 " in table[2]
    assert table[-2].split() == ["score", "7/10"] and table[-1].startswith("isolation: ")


def test_same_submission_same_report(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(corpus.graded_text("new_dataset", "wrong",
                                       corpus.ROOT / "new_dataset" / "wrong" / "prior_temperature_as_variance.py"))
    first, second = (grade_file("new_dataset", path).as_dict() for _ in range(2))
    assert first == second and first["score"] == 10


def test_check_from_a_hidden_test_cell(capsys):
    """autograder.check reads the kernel's input history, prints one line to stdout only and returns the points."""
    history = ["", corpus.reference_source("interpolation"),
               'import autograder\nautograder.check("interpolation", "slerp", globals(), points=4)']
    earned = autograder.check("interpolation", "slerp", {"In": history}, points=4)
    out, err = capsys.readouterr()
    assert earned == 4.0 and isinstance(earned, float)
    assert out == "slerp: 4/4 - passed\n" and err == ""


def test_check_gives_zero_for_a_broken_or_missing_definition(capsys):
    history = ["", "import torch\ndef lerp(z1, z2, steps):\n    raise ValueError('not yet')"]
    assert autograder.check("interpolation", "lerp", {"In": history}, points=3) == 0.0
    assert autograder.check("interpolation", "slerp", {"In": history}) == 0.0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert lines[0].startswith("lerp: 0/3 - lerp(z1, z2, 5) raised ValueError: not yet (In[1], line 3")
    assert lines[1] == "slerp: 0/4 - slerp is not defined: the notebook must define it under exactly this name"


def test_check_without_input_history_uses_the_namespace_objects(tmp_path, capsys):
    """Outside IPython there is no `In`: the source of the namespace's functions is graded."""
    path = tmp_path / "student_module.py"
    path.write_text("import torch\n\n\ndef lerp(z1, z2, steps):\n    t = torch.linspace(0, 1, steps)[:, None]\n"
                    "    return (1 - t) * z1 + t * z2\n")
    spec = importlib.util.spec_from_file_location("student_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert autograder.check("interpolation", "lerp", vars(module)) == 3.0, capsys.readouterr().out


def test_unreadable_notebook_scores_zero_with_the_reason(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ this is not a notebook")
    report = grade_file("interpolation", path)
    assert report.score == 0 and report.max_score == 10
    assert all(check.message.startswith("cannot read broken.ipynb: ") for check in report.checks)


def test_check_in_a_jupyter_kernel():
    """As nbgrader runs it: hidden cells in a real kernel print one line to stdout and end with the points; a
    later redefinition counts, and interpolate is not penalised for the student's own (wrong) slerp."""
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    hidden = 'import autograder\nautograder.check("interpolation", "{}", globals(), points={})'
    notebook.cells = [nbformat.v4.new_code_cell("%matplotlib inline\n" + corpus.reference_source("interpolation")),
                      nbformat.v4.new_code_cell(hidden.format("lerp", 3)),
                      nbformat.v4.new_code_cell("def slerp(z1, z2, steps):\n    return lerp(z1, z2, steps)"),
                      nbformat.v4.new_code_cell(hidden.format("slerp", 4)),
                      nbformat.v4.new_code_cell(hidden.format("interpolate", 3))]
    NotebookClient(notebook, timeout=30, kernel_name="python3").execute()
    outputs = [cell.outputs for cell in notebook.cells if "autograder.check" in cell.source]
    # The kernel may deliver one printed line in several stream messages; what matters is stdout only, one
    # line, and the points as the cell's result.
    streams = [[o for o in cell if o.output_type == "stream"] for cell in outputs]
    assert all(o.name == "stdout" for cell in streams for o in cell), "stderr output would score the cell 0"
    texts = ["".join(o.text for o in cell) for cell in streams]
    assert all(text.count("\n") == 1 for text in texts)
    assert [cell[-1].output_type for cell in outputs] == ["execute_result"] * 3
    assert [cell[-1].data["text/plain"] for cell in outputs] == ["3.0", "0.0", "3.0"]
    assert "follows the straight line" in texts[1]
