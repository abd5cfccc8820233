"""overlapclip:clipstack's shifts: each raster's against the reference, estimated, said unreliable where it is,
removed before the outputs' grids are planned, and listed in the SHIFTS table, through processing.run and
qgis_process."""

import csv
import json

import processing
import pytest
from commands import qgis_process
from conftest import QGIS_PROCESS
from files import leftovers, listing
from qgis.core import QgsApplication, QgsProcessingException
from rasters import A_TRANSFORM, make_raster
from shift_data import write_pair

COLUMNS = [
    "input",
    "output",
    "reference",
    "dx_px",
    "dy_px",
    "shift_m",
    "reliable",
    "windows_used",
    "windows_total",
    "spread_px",
    "corrected_dx_px",
    "corrected_dy_px",
    "note",
]

#: The true shifts of the second and third rasters against the first (east, south, in pixels of 10 m).
SHIFTS = [(1.3, -0.7), (-2.45, 0.6)]


@pytest.fixture
def stack(tmp_path):
    """The reference, a copy shifted by SHIFTS[0], and (from another folder, with the same reference content)
    a copy shifted by SHIFTS[1]."""
    (tmp_path / "other").mkdir()
    reference, first = write_pair(tmp_path, *SHIFTS[0])
    _, second = write_pair(tmp_path / "other", *SHIFTS[1])
    return [reference, first, second]


def rows_of(path):
    """The header and the rows of the CSV at ``path``."""
    with open(path, encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    return table[0], [dict(zip(table[0], row)) for row in table[1:]]


def assert_reference_row(row, output):
    assert row == {**dict.fromkeys(COLUMNS, ""), "input": "reference", "output": output, "reference": "yes"}


def assert_shift_row(row, output, dx, dy, corrected=False):
    assert (row["input"], row["output"], row["reference"], row["reliable"], row["note"]) == (
        "shifted",
        output,
        "no",
        "yes",
        "",
    )
    assert (float(row["dx_px"]), float(row["dy_px"])) == pytest.approx((dx, dy), abs=0.05)
    assert float(row["shift_m"]) == pytest.approx(10.0 * (dx**2 + dy**2) ** 0.5, abs=0.5)
    assert 0 < int(row["windows_used"]) <= int(row["windows_total"])
    assert 0.0 <= float(row["spread_px"]) < 0.1
    if corrected:
        assert (float(row["corrected_dx_px"]), float(row["corrected_dy_px"])) == pytest.approx(
            (float(row["dx_px"]), float(row["dy_px"])), abs=0.05
        )
    else:
        assert (row["corrected_dx_px"], row["corrected_dy_px"]) == ("", "")


def test_clipstack_declares_the_shift_parameters_in_its_contract(provider):
    algorithm = QgsApplication.processingRegistry().algorithmById("overlapclip:clipstack")
    assert [parameter.name() for parameter in algorithm.parameterDefinitions()] == [
        "INPUTS",
        "REFERENCE",
        "REFERENCE_LAYER",
        "GRID",
        "AREA",
        "MASK_COMMON",
        "RESAMPLING",
        "OPTIONS",
        "GCP_TRANSFORMER",
        "RPC_DEM",
        "DASK_SCHEDULER",
        "SHIFT",
        "COREGISTER",
        "QA",
        "QA_BAND",
        "QA_RASTERS",
        "OUTPUT_FOLDER",
        "LOAD_OUTPUTS",
        "SHIFTS",
    ]
    assert [output.name() for output in algorithm.outputDefinitions()] == ["OUTPUT_FOLDER", "SHIFTS", "OUTPUT_LAYERS"]
    # The estimate costs little (make bench part shift: +6 % on a Sentinel-2-sized pair): on unless turned off.
    assert algorithm.parameterDefinition("SHIFT").defaultValue() is True
    assert algorithm.parameterDefinition("COREGISTER").defaultValue() is False
    table = algorithm.parameterDefinition("SHIFTS")
    assert table.defaultFileExtension() == "csv"
    assert not table.createByDefault()


def test_the_shift_table_gives_each_rasters_shift_against_the_reference(provider, stack, tmp_path):
    out = tmp_path / "out"
    result = processing.run(
        "overlapclip:clipstack",
        {"INPUTS": stack, "SHIFT": True, "OUTPUT_FOLDER": str(out), "SHIFTS": str(tmp_path / "shifts.csv")},
    )
    outputs = [str(out / "reference_common.tif"), str(out / "shifted_common.tif"), str(out / "shifted_common_2.tif")]
    assert result["OUTPUT_LAYERS"] == outputs
    assert result["SHIFTS"] == str(tmp_path / "shifts.csv")
    header, rows = rows_of(tmp_path / "shifts.csv")
    assert header == COLUMNS and len(rows) == 3
    assert_reference_row(rows[0], outputs[0])
    for row, output, (dx, dy) in zip(rows[1:], outputs[1:], SHIFTS):
        assert_shift_row(row, output, dx, dy)
    assert leftovers(tmp_path) == [] and leftovers(out) == []


def test_the_reference_is_the_one_chosen_and_without_a_table_nothing_is_written_beside_the_outputs(
    provider, stack, tmp_path
):
    out = tmp_path / "out"
    # The second raster as the reference: the first lies SHIFTS[0] the other way.
    result = processing.run(
        "overlapclip:clipstack",
        {"INPUTS": stack[:2], "REFERENCE": 2, "OUTPUT_FOLDER": str(out), "SHIFTS": str(out / "shifts.csv")},
    )
    header, rows = rows_of(result["SHIFTS"])
    assert [row["reference"] for row in rows] == ["no", "yes"]
    dx, dy = SHIFTS[0]
    assert (float(rows[0]["dx_px"]), float(rows[0]["dy_px"])) == pytest.approx((-dx, -dy), abs=0.05)
    assert listing(out) == ["reference_common.tif", "shifted_common.tif", "shifts.csv"]

    plain = processing.run("overlapclip:clipstack", {"INPUTS": stack[:2], "OUTPUT_FOLDER": str(tmp_path / "plain")})
    assert "SHIFTS" not in plain or not plain["SHIFTS"]
    assert listing(tmp_path / "plain") == ["reference_common.tif", "shifted_common.tif"]


def test_unrelated_content_has_no_number_in_the_table_and_says_why(provider, tmp_path):
    reference, unrelated = write_pair(tmp_path, 0.5, 0.5, other_seed=7)
    out = tmp_path / "out"
    # The table alone asks for the estimate, and COREGISTER moves nothing that is not reliable.
    processing.run(
        "overlapclip:clipstack",
        {
            "INPUTS": [reference, unrelated],
            "COREGISTER": True,
            "RESAMPLING": 2,
            "OUTPUT_FOLDER": str(out),
            "SHIFTS": str(tmp_path / "shifts.csv"),
        },
    )
    _, rows = rows_of(tmp_path / "shifts.csv")
    assert_reference_row(rows[0], str(out / "reference_common.tif"))
    row = rows[1]
    assert row["reliable"] == "no" and row["note"].startswith("The rasters' content does not match")
    for key in ("dx_px", "dy_px", "shift_m", "spread_px", "corrected_dx_px", "corrected_dy_px"):
        assert row[key] == "", key
    assert int(row["windows_used"]) < int(row["windows_total"])


def test_a_coregistered_stack_estimated_again_is_within_a_tenth_of_a_pixel(provider, stack, tmp_path):
    out = tmp_path / "out"
    result = processing.run(
        "overlapclip:clipstack",
        {
            "INPUTS": stack,
            "COREGISTER": True,
            "RESAMPLING": 2,
            "OUTPUT_FOLDER": str(out),
            "SHIFTS": str(tmp_path / "moved.csv"),
        },
    )
    _, rows = rows_of(tmp_path / "moved.csv")
    for row, output, (dx, dy) in zip(rows[1:], result["OUTPUT_LAYERS"][1:], SHIFTS):
        assert_shift_row(row, output, dx, dy, corrected=True)

    processing.run(
        "overlapclip:clipstack",
        {
            "INPUTS": result["OUTPUT_LAYERS"],
            "SHIFT": True,
            "OUTPUT_FOLDER": str(tmp_path / "again"),
            "SHIFTS": str(tmp_path / "again.csv"),
        },
    )
    _, rows = rows_of(tmp_path / "again.csv")
    assert rows[0]["reference"] == "yes"
    for row in rows[1:]:
        assert row["reliable"] == "yes", row["note"]
        residual = float(row["dx_px"]), float(row["dy_px"])
        assert max(abs(value) for value in residual) <= 0.1, residual


@pytest.mark.parametrize("clash", ["input", "output"])
def test_a_table_over_an_input_or_an_output_is_refused_before_anything_is_written(provider, tmp_path, clash):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 100, 80)
    out = tmp_path / "out"
    table = a if clash == "input" else str(out / "b_common.tif")
    before = open(a, "rb").read()
    with pytest.raises(QgsProcessingException, match="would overwrite the raster"):
        processing.run(
            "overlapclip:clipstack", {"INPUTS": [a, b], "SHIFT": True, "OUTPUT_FOLDER": str(out), "SHIFTS": table}
        )
    assert not out.exists()
    assert open(a, "rb").read() == before


def test_a_failed_run_leaves_an_earlier_table_as_it_was(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    (tmp_path / "shifts.csv").write_text("an earlier table\n")
    with pytest.raises(QgsProcessingException, match="do not overlap"):
        processing.run(
            "overlapclip:clipstack",
            {
                "INPUTS": [a, b],
                "SHIFT": True,
                "OUTPUT_FOLDER": str(tmp_path / "out"),
                "SHIFTS": str(tmp_path / "shifts.csv"),
            },
        )
    assert (tmp_path / "shifts.csv").read_text() == "an earlier table\n"
    assert listing(tmp_path) == ["a.tif", "b.tif", "shifts.csv"]


def stack_command(profile, inputs, **params):
    """`qgis_process --json run overlapclip:clipstack -- --INPUTS=... KEY=VALUE ...` and its results."""
    run = qgis_process(
        profile,
        "--json",
        "run",
        "overlapclip:clipstack",
        *(f"--INPUTS={path}" for path in inputs),
        *(f"--{key}={value}" for key, value in params.items()),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout[run.stdout.index("{") :])["results"]


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_writes_the_shift_table_and_coregisters_the_stack(profile, stack, tmp_path):
    out = tmp_path / "out"
    results = stack_command(profile, stack, SHIFT="true", OUTPUT_FOLDER=out, SHIFTS=tmp_path / "shifts.csv")
    assert results["SHIFTS"] == str(tmp_path / "shifts.csv")
    header, rows = rows_of(tmp_path / "shifts.csv")
    assert header == COLUMNS
    assert_reference_row(rows[0], results["OUTPUT_LAYERS"][0])
    for row, output, (dx, dy) in zip(rows[1:], results["OUTPUT_LAYERS"][1:], SHIFTS):
        assert_shift_row(row, output, dx, dy)

    moved = stack_command(
        profile, stack, COREGISTER="true", RESAMPLING=2, OUTPUT_FOLDER=tmp_path / "moved", LOAD_OUTPUTS="false"
    )
    again = stack_command(
        profile, moved["OUTPUT_LAYERS"], OUTPUT_FOLDER=tmp_path / "again", SHIFTS=tmp_path / "again.csv"
    )
    _, rows = rows_of(again["SHIFTS"])
    for row in rows[1:]:
        assert row["reliable"] == "yes", row["note"]
        assert abs(float(row["dx_px"])) <= 0.1 and abs(float(row["dy_px"])) <= 0.1, row


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_says_why_an_unrelated_rasters_shift_has_no_number(profile, tmp_path):
    reference, unrelated = write_pair(tmp_path, 0.5, 0.5, other_seed=7)
    results = stack_command(
        profile, [reference, unrelated], SHIFT="true", OUTPUT_FOLDER=tmp_path / "out", SHIFTS=tmp_path / "s.csv"
    )
    _, rows = rows_of(results["SHIFTS"])
    assert [row["reliable"] for row in rows] == ["", "no"]
    assert rows[1]["dx_px"] == rows[1]["dy_px"] == rows[1]["shift_m"] == ""
    assert rows[1]["note"].startswith("The rasters' content does not match")
