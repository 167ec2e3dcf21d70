"""Assemble the source folder of the static site (``make site``).

The site shows the learner's copies of the notebooks *with* their committed
outputs: nbgrader's ``ClearSolutions`` and ``ClearHiddenTests`` (the first two
steps of ``course_utils.exercises.student_version``; its ``ClearOutput`` step
is left out on purpose), nothing executed.  On top of that, for a page that
works without a kernel:

- every widget output (tqdm bars, explorers) becomes static output: the text
  of its HTML children and the outputs its ``Output`` widget holds (the
  explorer's initial figure), with a note that the sliders need JupyterLab;
- an "Open in JupyterLab" admonition under the title names the notebook file;
- the course map becomes ``index.ipynb`` (the home page), with one hidden
  toctree per part listing the notebooks in course order;
- the README's set-up section becomes the "Install" page;

Usage: ``python docs/prepare_site.py --out build/site-src`` (from the repository root).
"""
from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
HOME = "00_start_here.ipynb"


def site_version(nb):
    """The learner's copy of ``nb`` with its outputs kept (solutions and hidden tests removed)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = copy.deepcopy(nb)
    resources: dict = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests()):
        nb, resources = preprocessor.preprocess(nb, resources)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.outputs = []  # what the solution printed is not the stub's output
    return nb


def widget_state(nb) -> dict:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _walk(state: dict, model_id: str, texts: list, outputs: list, kinds: set) -> None:
    model = state.get(model_id)
    if model is None:
        return
    name, st = model["model_name"], model["state"]
    kinds.add(name)
    if name == "OutputModel":
        outputs.extend(st.get("outputs", []))
    elif name in ("HTMLModel", "LabelModel") and st.get("value"):
        texts.append(st["value"])
    for child in st.get("children", []):
        _walk(state, child.removeprefix("IPY_MODEL_"), texts, outputs, kinds)


def static_widget_outputs(output: dict, state: dict) -> list:
    """Static outputs standing for one widget-view output."""
    texts: list = []
    inner: list = []
    kinds: set = set()
    _walk(state, output["data"][WIDGET_VIEW]["model_id"], texts, inner, kinds)
    result = []
    if "FloatProgressModel" in kinds or "IntProgressModel" in kinds:
        # a tqdm bar: its final text ("training: 100%  315/315 [...]"), values are already HTML-escaped
        result.append(nbformat.v4.new_output(
            "display_data", data={"text/html": '<pre class="static-progress">' + " ".join(texts) + "</pre>"}))
    elif kinds & {"IntSliderModel", "FloatSliderModel", "DropdownModel", "ToggleButtonsModel",
                  "SelectionSliderModel", "CheckboxModel", "PlayModel", "RadioButtonsModel"}:
        result.append(nbformat.v4.new_output("display_data", data={"text/html": (
            '<p class="static-widget-note"><em>Interactive explorer: its sliders need a running '
            "kernel (open the notebook in JupyterLab). Below, its first view.</em></p>")}))
    elif texts:
        result.append(nbformat.v4.new_output(
            "display_data", data={"text/html": "<div>" + " ".join(texts) + "</div>"}))
    for out in inner:
        out = nbformat.from_dict(out)
        if out.get("output_type") in ("display_data", "execute_result"):
            out = nbformat.v4.new_output("display_data", data=out.get("data", {}),
                                         metadata=out.get("metadata", {}))
        result.append(out)
    return result


def staticize_widgets(nb) -> None:
    """Replace every widget-view output by static outputs; drop the widget state."""
    state = widget_state(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                new.extend(static_widget_outputs(out, state))
            else:
                new.append(out)
        cell.outputs = new
    nb.metadata.pop("widgets", None)


def open_hint(rel: str) -> str:
    """The admonition under each notebook's title."""
    install = "../" * rel.count("/") + "install.md"
    return (
        "```{admonition} Open in JupyterLab\n:class: tip\n\n"
        f"This page is the notebook `notebooks/{rel}` with its saved outputs (animations play here;"
        f" sliders and exercises need a kernel). To run it, `make lab` (see [Install]({install}))"
        f" and open your copy `student/{rel}`; `make reset NB={Path(rel).stem}` gives a fresh one.\n```"
    )


def insert_hint(nb, rel: str) -> None:
    cell = nbformat.v4.new_markdown_cell(open_hint(rel))
    cell.metadata["tags"] = ["site-open-hint"]
    first = nb.cells[0] if nb.cells else None
    at = 1 if first is not None and first.cell_type == "markdown" and first.source.lstrip().startswith("# ") else 0
    nb.cells.insert(at, cell)


def link_home(nb, depth: int) -> None:
    """Links to the course map point to ``index.ipynb`` (the home page)."""
    old, new = ("../" * depth) + HOME, ("../" * depth) + "index.ipynb"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("(" + old, "(" + new)


def part_title(part: Path) -> str:
    readme = part / "README.md"
    if readme.exists():
        first = readme.read_text(encoding="utf-8").splitlines()[0]
        if first.startswith("# "):
            return first[2:].strip()
    number, _, name = part.name.partition("_")
    return f"Part {number}: {name.replace('_', ' ').capitalize()}"


def install_page() -> str:
    """The README's set-up section ("Two commands" and "Other routes"), verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Two commands")
    end = readme.index("\n## ", start + 3)
    return (
        "# Install\n\n"
        "The course runs in JupyterLab on your own machine, offline. These are the set-up commands of the\n"
        "repository's README.md, run from the repository root.\n\n" + readme[start:end].strip() + "\n"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT / "notebooks"))
    parser.add_argument("--out", default=str(ROOT / "build" / "site-src"))
    args = parser.parse_args(argv)
    source, out = Path(args.source), Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    from course_utils.exercises import find_notebooks

    parts: dict[str, list[str]] = {}
    for path in find_notebooks(source):
        rel = path.relative_to(source).as_posix()
        nb = site_version(nbformat.read(path, as_version=4))
        staticize_widgets(nb)
        link_home(nb, rel.count("/"))
        insert_hint(nb, rel)
        if rel == HOME:
            target = out / "index.ipynb"
        else:
            target = out / rel
            parts.setdefault(path.parent.name, []).append(rel.removesuffix(".ipynb"))
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)

    # the home page: the course map plus the table of contents (hidden: the sidebar shows it)
    index = nbformat.read(out / "index.ipynb", as_version=4)
    tocs = ["```{toctree}\n:hidden:\n:caption: Getting started\n\ninstall\n```"]
    for part in sorted(parts):
        entries = []
        if (source / part / "README.md").exists():
            shutil.copy(source / part / "README.md", out / part / "README.md")
            entries.append(f"{part}/README")
        entries += parts[part]
        tocs.append("```{toctree}\n:hidden:\n:caption: " + part_title(source / part) + "\n\n"
                    + "\n".join(entries) + "\n```")
    toc_cell = nbformat.v4.new_markdown_cell("\n\n".join(tocs))
    toc_cell.metadata["tags"] = ["site-toc"]
    index.cells.append(toc_cell)
    nbformat.write(index, out / "index.ipynb")

    (out / "install.md").write_text(install_page(), encoding="utf-8")
    print(f"site source in {out}: {sum(len(v) for v in parts.values()) + 1} notebooks, "
          f"{len(parts)} parts")


if __name__ == "__main__":
    main()
