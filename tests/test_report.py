"""`zoo report`: a site that works offline, links that resolve, and nothing a user wrote run as HTML.

tests/browser/ opens the same site in a real browser; these tests read its files.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

from zoo_core.report import page_name


class Page(HTMLParser):
    """What a page links to and shows: its links, images, script and stylesheet, and its text."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.targets: list[str] = []
        self.images: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(path.read_text())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.targets.append(values[name] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def shows(self, words: str) -> bool:
        return words in " ".join(" ".join(self.text).split())


def test_every_link_and_image_of_the_site_resolves_inside_it_and_nothing_comes_from_the_network(reported):
    pages = sorted(reported.site.rglob("*.html"))
    assert reported.stdout.strip() == str(reported.site / "index.html")
    assert len(pages) == 1 + 7  # the index and one page per run
    for path in pages:
        page = Page(path)
        for target in page.targets:
            if target.startswith(("data:", "#")):
                continue
            assert "://" not in target and not target.startswith("//"), f"{path.name} fetches {target}"
            resolved = (path.parent / target.split("#")[0]).resolve()
            assert resolved.is_file() and reported.site in resolved.parents, f"{path.name}: {target}"
        for image in page.images:
            assert (path.parent / image).read_bytes().startswith(b"\x89PNG"), image


def test_the_index_has_a_board_per_task_with_directions_baselines_and_the_best_marked(reported):
    index = (reported.site / "index.html").read_text()
    page = Page(reported.site / "index.html")
    assert page.tags.count("table") == 3  # classification, forecasting, every run
    assert "accuracy ↑" in index and "mse ↓" in index and "higher is better" in index
    # The best of each dataset, by its primary metric: the first row of its group.
    assert index.count('<tr class="best') == 2 and page.shows("★ toy-mlp")
    assert page.shows("★ toy-net") != page.shows("★ last-value baseline")
    assert page.shows("majority-class baseline") and page.shows("last-value baseline")
    assert "±" in index
    assert (reported.site / "charts" / "classification-toy-points.png").exists()
    assert (reported.site / "charts" / "forecasting-toy-wave.png").exists()
    # A board row links to each of its seeds' runs.
    assert f'href="runs/{page_name(reported.curves_run)}.html"' in index


def test_a_run_page_shows_config_provenance_metrics_curves_and_plots(reported):
    curves = Page(reported.site / "runs" / f"{page_name(reported.curves_run)}.html")
    assert curves.shows("best epoch 3") and curves.shows("validation accuracy did not improve for 1 epoch")
    assert "curves.png" in " ".join(curves.images) and "confusion_matrix.png" in " ".join(curves.images)
    assert curves.shows("The trainer's settings") and curves.shows("sha256:")
    assert curves.shows("accuracy") and curves.shows("↑ higher is better")
    # A real run stores its curves (training loss, validation accuracy): the page draws them.
    [other] = [p for p in (reported.site / "runs").glob("*toy-mlp*s0*.html")]
    assert "curves.png" in " ".join(Page(other).images)
    assert Page(other).shows("training loss and validation accuracy")
    failed = Page(reported.site / "runs" / f"{page_name(reported.failed_run)}.html")
    assert failed.shows("failed") and failed.shows(f"RuntimeError: {reported.hostile}")


def test_nothing_a_user_or_a_plugin_controls_becomes_markup(reported):
    for path in reported.site.rglob("*.html"):
        assert reported.hostile not in path.read_text(), path.name
    page = Page(reported.site / "runs" / f"{page_name(reported.curves_run)}.html")
    assert page.shows(reported.hostile)  # as text: the note, and the setting
    assert page.tags.count("script") == 1  # sort.js, no other


def test_a_second_report_replaces_the_first_and_a_foreign_folder_is_refused(zoo, reported, tmp_path):
    site = shutil.copytree(reported.site, tmp_path / "report")  # the module's site stays as it was
    stale = site / "runs" / "gone.html"
    stale.write_text("from an older report")
    zoo("report", "--output", str(site), home=reported.home)
    assert not stale.exists() and (site / "index.html").exists()

    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"...")
    result = zoo("report", "--output", str(foreign), check=False)
    assert result.returncode == 2
    refusal = f"--output {foreign} is not empty and holds no zoo report; give a new or empty folder"
    assert result.stderr == f"zoo: error: {refusal}\n"
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.jpg"]


def test_task_keeps_one_tasks_boards_and_runs(zoo, reported, tmp_path):
    site = tmp_path / "forecasts"
    zoo("report", "--output", str(site), "--task", "forecasting", home=reported.home)
    page = Page(site / "index.html")
    assert page.tags.count("table") == 2 and page.shows("toy-net") and not page.shows("toy-mlp")
    assert len(list((site / "runs").glob("*.html"))) == 2


def test_an_empty_home_gives_a_site_that_says_what_to_do(zoo, home):
    zoo("report")
    assert Page(home / "report" / "index.html").shows("No runs are recorded yet")


def test_a_task_without_runs_is_one_line_and_exit_2(zoo, home):
    zoo("run", "toy-net", "--quiet")
    result = zoo("report", "--task", "clustering", check=False)
    assert result.returncode == 2 and not (home / "report").exists()
    assert (
        result.stderr.startswith("zoo: error: no runs of task 'clustering' in ")
        and result.stderr.count("\n") == 1
    )


def test_open_opens_the_index_in_a_browser(zoo, home, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    zoo("report", "--open")
    assert opened == [(home / "report" / "index.html").resolve().as_uri()]


def test_page_names_are_the_run_ids_when_those_are_safe_file_names():
    assert page_name("20260101-000000-knn-digits-s0-abcdef") == "20260101-000000-knn-digits-s0-abcdef"
    assert page_name("../etc/passwd").startswith("run-") and page_name(".hidden").startswith("run-")
