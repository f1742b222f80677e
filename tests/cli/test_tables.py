"""The command's tables: CSV detection, reading, and one-line errors for bad or unreadable files."""

import csv

import pytest
from helpers.cli_runs import run_cli, write_labelled_csv, write_numeric_csv


@pytest.mark.parametrize("edit, message", [
    (lambda rows: None, "no target column 'species'; the columns are"),
    (lambda rows: rows[3].__setitem__(1, "abc"), "column 'b' row 3 (line 4): 'abc' is not a number"),
    (lambda rows: rows[5].__setitem__(0, ""), "missing value in column 'a' at row 5 (line 6)"),
    (lambda rows: rows[2].__setitem__(3, "NA"), "missing value in target column 'label' at row 2"),
])
def test_bad_csv_gives_one_error_line_and_status_2(tmp_path, capsys, edit, message):
    write_labelled_csv(tmp_path / "train.csv", n=40)
    with open(tmp_path / "train.csv", newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(tmp_path / "train.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    target = "species" if "species" in message else "label"
    status, _, err = run_cli(["train", "--data", tmp_path / "train.csv", "--target", target, "--epochs", "1",
                          "--progress", "none"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("tinynet: error: ") and message in err


@pytest.mark.parametrize("name", ["T.CSV", "t.Csv", "t.csv"])
def test_csv_paths_in_any_case_need_target_then_train(tmp_path, capsys, name):
    from tinynet import cli
    from tinynet.cli.tables import is_csv_path

    path = tmp_path / name
    write_numeric_csv(path)
    assert is_csv_path(str(path)) and not is_csv_path("iris")
    status = cli.main(["train", "--data", str(path), "--epochs", "1", "--progress", "none"])
    err = capsys.readouterr().err
    assert status == 2 and err == "tinynet: error: --target COLUMN is required with a CSV file\n"
    status = cli.main(["train", "--data", str(path), "--target", "label", "--epochs", "2",
                       "--progress", "none"])
    assert status == 0 and capsys.readouterr().err == ""


def test_read_csv_without_a_target_column_name_says_so(tmp_path):
    from tinynet.cli.tables import DataError, read_csv

    write_numeric_csv(tmp_path / "d.csv")
    with pytest.raises(DataError, match="name its target column"):
        read_csv(str(tmp_path / "d.csv"), None)
    assert read_csv(str(tmp_path / "d.csv"), "label", need_target=False).y is not None


def test_unreadable_csv_files_are_one_line_data_errors(tmp_path, capsys):
    from tinynet import cli

    (tmp_path / "latin1.csv").write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    (tmp_path / "huge.csv").write_text("a,b,label\n" + "1" * 200_000 + ",2,x\n")
    for name, message in [("latin1.csv", "not UTF-8 text (it has the byte 0xe9)"),
                          ("huge.csv", "not a readable CSV file (field larger than field limit")]:
        status = cli.main(["train", "--data", str(tmp_path / name), "--target", "label"])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and message in err, err
