"""The command's tables: CSV detection, reading, and one-line errors for bad or unreadable files."""

import csv

import pytest
from helpers.cli_runs import run_cli, write_labelled_csv, write_numeric_csv


@pytest.mark.parametrize("edit, message", [
    (lambda rows: None, "no target column 'species'; the columns are"),
    (lambda rows: [row.__setitem__(1, "") for row in rows[1:]],
     "these --features cannot be features: 'b' (every cell is missing)"),
    (lambda rows: [row.__setitem__(0, "7") for row in rows[1:]],
     "'a' (the same value '7' in every row)"),
    (lambda rows: [row.__setitem__(3, "NA") for row in rows[1:]],
     "every cell of the target column 'label' is missing"),
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
                              "--features", "a", "b", "c", "--progress", "none"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("tinynet: error: ") and message in err


def test_unusable_columns_are_named_at_once_and_left_out_by_default(tmp_path, capsys):
    rows = [["id", "empty", "same", "x", "label"]]
    rows += [[f"row{i}", "", "k", f"{i % 7}", "ab"[i % 2]] for i in range(60)]
    with open(tmp_path / "t.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    argv = ["train", "--data", tmp_path / "t.csv", "--target", "label", "--epochs", "1", "--progress", "none"]
    status, out, err = run_cli(argv, capsys)
    assert (status, err) == (0, "")
    said = " ".join(out.split())  # rich wraps long lines
    assert ("left out 3 column(s) that cannot be features: 'id' (60 distinct strings in 60 rows: an "
            "identifier or free text, not a category); 'empty' (every cell is missing); 'same' (the same "
            "value 'k' in every row)") in said
    status, _, err = run_cli([*argv, "--features", "id", "x", "empty"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "these --features cannot be features: 'id' (60 distinct" in err and "'empty' (every cell" in err
    status, _, err = run_cli([*argv, "--drop", "idd"], capsys)
    assert status == 2 and "no column(s) ['idd']" in err and "did you mean 'id'?" in err


def test_missing_cells_strings_and_a_missing_target_are_read(tmp_path):
    from tinynet.cli.tables import read_csv

    (tmp_path / "m.csv").write_text("size;colour;label\n1.5;red;x\nNA;;y\n?;blue;\n2;red;x\n")
    table = read_csv(str(tmp_path / "m.csv"), "label")
    assert table.dropped == 1 and table.labels == ["x", "y"] and table.y.tolist() == [0, 1, 0]
    assert table.x.tolist() == [["1.5", "red"], ["NA", ""], ["2", "red"]]  # cells as read, typed later


@pytest.mark.parametrize("values, task, why", [
    (["a", "b", "a"], "classification", "it holds strings, 2 classes"),
    (["1.5", "2", "3"], "regression", "it holds numbers with fractions"),
    (["0", "1"] * 10, "classification", "2 distinct whole numbers in 20 rows: at most 2 count as classes"),
    ([str(i % 3) for i in range(150)], "classification", "3 distinct whole numbers in 150 rows: at most 15"),
    ([str(i % 3) for i in range(20)], "regression", "more than the 2 that would count as classes"),
    ([str(3000 + 25 * (i % 94)) for i in range(344)], "regression", "94 distinct whole numbers in 344 rows"),
    ([str(i % 30) for i in range(1000)], "regression", "more than the 20 that would count"),
])
def test_the_task_is_guessed_and_explained(values, task, why):
    from tinynet.cli.tables import guess_task

    guessed, reason = guess_task(values)
    assert guessed == task and why in reason


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
    assert read_csv(str(tmp_path / "d.csv"), "label").y is not None
    assert read_csv(str(tmp_path / "d.csv"), "label", need_target=False).y is None  # predict: never read


def test_unreadable_csv_files_are_one_line_data_errors(tmp_path, capsys):
    from tinynet import cli

    (tmp_path / "latin1.csv").write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    (tmp_path / "huge.csv").write_text("a,b,label\n" + "1" * 200_000 + ",2,x\n")
    for name, message in [("latin1.csv", "not UTF-8 text (it has the byte 0xe9)"),
                          ("huge.csv", "not a readable CSV file (field larger than field limit")]:
        status = cli.main(["train", "--data", str(tmp_path / name), "--target", "label"])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and message in err, err
