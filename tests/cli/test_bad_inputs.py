"""Every bad input ends in one ``error:`` line naming the problem and the flag that fixes it,
a non-zero exit, no traceback, nothing half-written and nothing existing overwritten.

Each case names the command line (``{name}`` stands for a workspace file, ``{tmp}`` for the
case's own empty directory), the flag the error must name, a phrase it must contain, and
optionally files to place in ``{tmp}`` first (they must survive untouched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import CliResult, run_cli
from tests.cli.workspace import QUICK_TABLE, TINY_IMAGE, VA, snapshot

pytestmark = pytest.mark.xdist_group("bad_inputs")  # one workspace, built once


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    flag: str  # the option the error line must name ("" when no option fixes it)
    says: str  # a phrase of the error line
    existing: dict[str, str] = field(default_factory=dict)  # files placed in {tmp} first


def case(id: str, *argv: str, flag: str, says: str, existing: dict[str, str] | None = None):
    return pytest.param(Case(id, argv, flag, says, existing or {}), id=id)


def subgroups(what: str, columns: str, says: str):
    """A case of ``evaluate --subgroups COLUMNS`` on the heart file, refused by the flag."""
    return case(f"evaluate: --subgroups {what}", *EVALUATE, "--subgroups", columns,
                flag="--subgroups", says=says)  # fmt: skip


def without(args: tuple[str, ...], option: str) -> tuple[str, ...]:
    """``args`` without ``option`` and its value: a case that gives it anew (an option given
    twice is refused by name)."""
    at = args.index(option)
    return args[:at] + args[at + 2 :]


TABLE = ("--data", "{heart}", "--label", "num", "--positive-above", "0")
GROUPS = ("--group-column", "dataset", "--groups", "Cleveland,Hungary")
TRAIN = ("train-base", *TABLE, "--id-column", "id", *GROUPS, *QUICK_TABLE)
ADAPT = ("adapt", "--base", "{base}", "--data", "{heart}", "--label", "num",
         "--group-column", "dataset", "--group", VA)  # fmt: skip
EVALUATE = ("evaluate", "--base", "{base}", "--adapter", "{adapter}", "--data", "{heart}")
PREDICT = ("predict", "--base", "{base}", "--adapter", "{adapter}", "--data", "{va}")
STUDY = ("study", *TABLE, "--id-column", "id", *GROUPS, "--group", VA, "--seeds", "1")
IMAGES = ("--data", "{npz}", "--class-names", "normal,nodule,mass", *TINY_IMAGE, "--epochs", "1")
TRAIN_IMAGES = ("train-base", *IMAGES)
REGISTRY = ("registry", "--root", "{registry}")
FEDERATE = ("federate", "simulate", *TABLE, "--id-column", "id", *GROUPS)
ON_BASE_GROUPS = (*FEDERATE, "--base-groups", "Cleveland")
ON_A_BASE = ("federate", "simulate", "--data", "{heart}", "--label", "num", *GROUPS, "--base",
             "{base}", "--out", "{tmp}/f")  # fmt: skip


def _measured_label() -> str:
    """The heart file's Hungary, and VA Long Beach with a measurement (age + 0.5) in place of
    ``num``: every value above the base's threshold 0."""
    import pandas as pd

    import medadapt as ma

    heart = ma.load_heart_disease()
    va = heart[heart["dataset"] == VA].assign(num=lambda rows: rows["age"] + 0.5)
    return pd.concat([heart[heart["dataset"] == "Hungary"], va]).to_csv(index=False)


FEW_ROWS = (  # three patients of VA Long Beach: a site too small to take part
    "id,age,sex,dataset,cp,trestbps,chol,fbs,restecg,thalch,exang,oldpeak,slope,ca,thal,num\n"
    "1,63,Male,VA Long Beach,asymptomatic,140,260,FALSE,normal,112,TRUE,3,flat,,,2\n"
    "2,44,Male,VA Long Beach,non-anginal,130,209,FALSE,normal,127,FALSE,0,,,,0\n"
    "3,60,Male,VA Long Beach,asymptomatic,132,218,FALSE,st-t abnormality,140,TRUE,1.5,,,,2\n"
)

CASES = [
    # ----- output paths, checked before any work ----------------------------------------------
    case("train-base: --out is a file", *TRAIN, "--out", "{tmp}/f", flag="--out", says="is a file",
         existing={"f": "keep me"}),
    case("train-base: --out under a file", *TRAIN, "--out", "{tmp}/f/base", flag="--out",
         says="is a file, not a directory", existing={"f": "keep me"}),
    case("train-base: --out holds a base", *TRAIN, "--out", "{tmp}/b", flag="--force",
         says="already holds a base model", existing={"b/model.json": "{}"}),
    case("train-base: --out holds other files", *TRAIN, "--out", "{tmp}/b", flag="--force",
         says="is not empty", existing={"b/notes.txt": "mine"}),
    case("train-base: --out unwritable", *TRAIN, "--out", "/proc/medadapt-base", flag="--out",
         says="cannot write in /proc"),
    case("train-base images: --json exists", *TRAIN_IMAGES, "--out", "{tmp}/b", "--json",
         "{tmp}/r.json", flag="--force", says="already exists", existing={"r.json": "old"}),
    case("train-base images: --json is a dir", *TRAIN_IMAGES, "--out", "{tmp}/b", "--json",
         "{tmp}/d", flag="--json", says="is a directory", existing={"d/x": "x"}),
    case("train-base images: --out holds a base", *TRAIN_IMAGES, "--out", "{tmp}/b",
         flag="--force", says="already holds a base model", existing={"b/model.json": "{}"}),
    case("adapt: --out holds an adapter", *ADAPT, "--out", "{tmp}/a", flag="--force",
         says="already holds an adapter", existing={"a/adapter.json": "{}"}),
    case("adapt: --out holds a base, even with --force", *ADAPT, "--out", "{tmp}/b", "--force",
         flag="--out", says="holds a model (model.json), which writing this output into it "
         "would break, even with --force", existing={"b/model.json": "{}"}),
    case("train-base: --out holds an adapter, even with --force", *TRAIN, "--out", "{tmp}/a",
         "--force", flag="--out", says="holds an adapter (adapter.json), which writing this "
         "output into it would break, even with --force", existing={"a/adapter.json": "{}"}),
    case("adapt: --out holds other files", *ADAPT, "--out", "{tmp}/a", flag="--force",
         says="is not empty", existing={"a/keep.csv": "x"}),
    case("adapt: --out under a file", *ADAPT, "--out", "{tmp}/f/a", flag="--out",
         says="is a file, not a directory", existing={"f": "x"}),
    case("evaluate: --json exists", *EVALUATE, "--json", "{tmp}/e.json", flag="--force",
         says="already exists", existing={"e.json": "old"}),
    case("evaluate: --report exists", *EVALUATE, "--report", "{tmp}/e.html", flag="--force",
         says="already exists", existing={"e.html": "old"}),
    case("evaluate: --report under a file", *EVALUATE, "--json", "{tmp}/e.json", "--report",
         "{tmp}/f/e.html", flag="--report", says="is a file", existing={"f": "x"}),
    case("evaluate: --report not .html", *EVALUATE, "--report", "{tmp}/e.pdf", flag="--report",
         says="the report is an HTML page; give a file name ending in .html or .htm"),
    subgroups("not a column", "sex,ethnicity",
              "--subgroups 'ethnicity' is not in the table (columns: id, "),
    subgroups("misspelt", "sx", "--subgroups 'sx' is not in the table; did you mean 'sex'?"),
    subgroups("a measurement", "chol", "different values in the 60 rows scored, more than the "
              "12 a subgroup column may have: name a column of a few categories, or add one "
              "that bands"),
    subgroups("the patient id", "id", "--subgroups 'id' is the base's patient id column"),
    subgroups("the label", "num",
              "--subgroups 'num' is the label the model predicts; name another column"),
    subgroups("twice", "sex,cp,sex",
              "--subgroups names 'sex' more than once; name each column once"),
    subgroups("empty", " , ", "--subgroups is empty; name at least one"),
    case("evaluate images: --subgroups", "evaluate", "--base", "{image_base}", "--data",
         "{npz}", "--subgroups", "sex", flag="--subgroups", says="--subgroups applies to tables"),
    case("adapt: --report not .html", *ADAPT, "--out", "{tmp}/a", "--report", "{tmp}/a.pdf",
         flag="--report", says="give a file name ending in .html or .htm"),
    case("evaluate PACS: --report not .html", "evaluate", "--base", "{image_base}", "--data",
         "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.3", "--labels", "{tmp}/labels.csv",
         "--report", "{tmp}/e.pdf", flag="--report", says="ending in .html or .htm",
         existing={"labels.csv": "StudyInstanceUID,label\n1.2.3,normal\n"}),
    case("predict PACS: a password and a token", "predict", "--base", "{image_base}", "--data",
         "dicomweb+http://u:pw@127.0.0.1:9/dicom-web/studies/1.2.3", "--dicomweb-token-file",
         "{tmp}/token", "--out", "{tmp}/p.csv", flag="--dicomweb-token-file",
         says="or user:password@ in the URL, not both",
         existing={"token": "t0ken\n"}),
    case("evaluate: --json is a directory", *EVALUATE, "--json", "{tmp}/d", flag="--json",
         says="is a directory", existing={"d/x": "x"}),
    case("predict: --out exists", *PREDICT, "--out", "{tmp}/p.csv", flag="--force",
         says="already exists", existing={"p.csv": "id,p\n"}),
    case("predict: --out is a directory", *PREDICT, "--out", "{tmp}/d", flag="--out",
         says="is a directory", existing={"d/x": "x"}),
    case("predict: --out makes a folder at the file system's top", *PREDICT, "--out",
         "/medadapt-no-such-top-folder/dir/p.csv", flag="--out",
         says="medadapt makes no folder at the top of the file system"),
    case("train-base: --out makes a folder at the file system's top", *TRAIN, "--out",
         "/medadapt-no-such-top-folder/b", flag="--out",
         says="medadapt makes no folder at the top of the file system"),
    case("predict images: --out exists", "predict", "--base", "{image_base}", "--data", "{npz}",
         "--out", "{tmp}/p.csv", flag="--force", says="already exists", existing={"p.csv": "x"}),
    case("study: --out holds other files", *STUDY, "--out", "{tmp}/s", flag="--force",
         says="is not empty", existing={"s/results.xlsx": "x"}),
    case("study: --out is a file", *STUDY, "--out", "{tmp}/s", flag="--out", says="is a file",
         existing={"s": "x"}),
    case("demo: --out holds other files", "demo", "--out", "{tmp}/d", flag="--force",
         says="is not empty", existing={"d/thesis.docx": "x"}),
    # ----- numbers and tables -----------------------------------------------------------------
    case("train-base: empty file", "train-base", "--data", "{empty}", "--label", "num", "--out",
         "{tmp}/b", flag="--data", says="is empty"),
    # an empty folder with a table's option: said empty, not "is image data" (a trial)
    case("train-base: an empty folder", "train-base", "--data", "{tmp}", "--label", "num",
         "--positive-above", "0", "--out", "{tmp}/../b", flag="--data",
         says="is an empty folder: pass a CSV, TSV or Parquet table, or images"),
    case("federate simulate: an empty folder", "federate", "simulate", "--data", "{tmp}",
         "--label", "num", "--positive-above", "0", *GROUPS, "--base-groups", "Cleveland",
         "--out", "{tmp}/../f", flag="--data", says="is an empty folder"),
    case("train-base: header only", "train-base", "--data", "{header_only}", "--label", "num",
         "--out", "{tmp}/b", flag="--data", says="has a header but no rows"),
    case("train-base: duplicate columns", "train-base", "--data", "{dup_columns}", "--label",
         "num", "--out", "{tmp}/b", flag="--data", says="duplicate column names ('age')"),
    case("train-base: UTF-16", "train-base", "--data", "{utf16}", "--label", "num", "--out",
         "{tmp}/b", flag="--data", says="UTF-16"),
    case("train-base: binary file", "train-base", "--data", "{binary}", "--label", "num",
         "--out", "{tmp}/b", flag="--data", says="is not a text table (binary content)"),
    case("train-base: missing file", "train-base", "--data", "{tmp}/nope.csv", "--label", "num",
         "--out", "{tmp}/b", flag="--data", says="does not exist"),
    case("train-base: no --label", "train-base", "--data", "{heart}", "--out", "{tmp}/b",
         flag="--label", says="--label is required"),
    case("train-base: unknown label", "train-base", "--data", "{heart}", "--label", "outcome",
         "--out", "{tmp}/b", flag="--label", says="'outcome' is not a column of the table"),
    case("train-base: label one letter off", "train-base", "--data", "{heart}", "--label", "nun",
         "--out", "{tmp}/b", flag="--label", says="'nun' is not a column of the table; did "
         "you mean 'num'?"),
    case("train-base: --groups empty", "train-base", *TABLE, "--group-column", "dataset",
         "--groups", "", "--out", "{tmp}/b", flag="--groups", says="empty"),
    case("train-base: unknown group", "train-base", *TABLE, "--group-column", "dataset",
         "--groups", "Mars", "--out", "{tmp}/b", flag="--groups", says="not found"),
    case("train-base: two groups misspelt, each its hint", "train-base", *TABLE,
         "--group-column", "dataset", "--groups", "Hungray,VA Long beach", "--out", "{tmp}/b",
         flag="--groups", says="groups 'Hungray' (did you mean 'Hungary'?), 'VA Long beach' "
         "(did you mean 'VA Long Beach'?) not found in column 'dataset'"),
    case("train-base: unknown --exclude", *TRAIN, "--exclude", "colour", "--out", "{tmp}/b",
         flag="--exclude", says="'colour'"),
    case("predict: weights as --data", "predict", "--base", "{base}", "--data", "{weights_csv}",
         "--out", "{tmp}/p.csv", flag="--data", says="is model weights (a safetensors file)"),
    case("evaluate: JSON as --data", "evaluate", "--base", "{base}", "--data", "{json}",
         flag="--data", says="is JSON, not a table"),
    case("train-base: random bytes as --data", "train-base", "--data", "{random}", "--label",
         "num", "--out", "{tmp}/b", flag="--data", says="is not a text table (binary content)"),
    case("train-base: no header row", "train-base", "--data", "{headerless}", "--label", "num",
         "--out", "{tmp}/b", flag="--data", says="its first line looks like a patient's values"),
    case("predict: no header row", "predict", "--base", "{base}", "--data", "{headerless}",
         "--out", "{tmp}/p.csv", flag="--data", says="export the file with its header row"),
    case("train-base: --exclude misspelt", *TRAIN, "--exclude", "choll", "--out", "{tmp}/b",
         flag="--exclude", says="'choll' given to --exclude is not in the table; did you mean "
         "'chol'?"),
    case("train-base: --missing-code column misspelt", *TRAIN, "--missing-code", "choll=0",
         "--out", "{tmp}/b", flag="--missing-code", says="did you mean 'chol'?"),
    case("train-base: unknown --numeric", *TRAIN, "--numeric", "colour", "--out", "{tmp}/b",
         flag="--numeric", says="'colour'"),
    case("train-base: unknown --allow-leak", *TRAIN, "--allow-leak", "colour", "--out",
         "{tmp}/b", flag="--allow-leak", says="'colour'"),
    case("train-base: bad --task", *TRAIN, "--task", "survival", "--out", "{tmp}/b",
         flag="--task", says="survival"),
    case("train-base: --test-fraction 1.5", *TRAIN, "--test-fraction", "1.5", "--out", "{tmp}/b",
         flag="--test-fraction", says="must be a share above 0 and below 1"),
    case("train-base: --test-fraction 0", *TRAIN, "--test-fraction", "0", "--out", "{tmp}/b",
         flag="--test-fraction", says="must be a share above 0 and below 1"),
    # a trial's 0.99 trained a base on 2 rows and printed those patients' outcomes
    case("train-base: --test-fraction 0.99 leaves too few to train on", *TRAIN,
         "--test-fraction", "0.99", "--out", "{tmp}/b", flag="--test-fraction",
         says="to train the base model on, fewer than 10: lower --test-fraction (0.2 keeps"),
    case("images: --test-fraction 0.75 leaves too few to train on", *TRAIN_IMAGES,
         "--test-fraction", "0.75", "--out", "{tmp}/b", flag="--test-fraction",
         says="holds out 27 of the 36 images and leaves 9 to train the base model on, "
         "fewer than 10"),
    case("train-base: --d-token 0", *without(TRAIN, "--d-token"), "--d-token", "0", "--out",
         "{tmp}/b",
         flag="--d-token", says="at least 1"),
    case("train-base: --n-heads not dividing", *without(without(TRAIN, "--d-token"), "--n-heads"),
         "--d-token", "30", "--n-heads", "4", "--out", "{tmp}/b", flag="--n-heads",
         says="multiple"),
    case("train-base: --positive-above on text", "train-base", "--data", "{heart}", "--label",
         "dataset", "--positive-above", "0", "--out", "{tmp}/b", flag="--positive-above",
         says="numeric label"),
    case("train-base: --positive-above over every value", "train-base", "--data", "{heart}",
         "--label", "num", "--positive-above", "5", "--id-column", "id", "--out", "{tmp}/b",
         flag="--positive-above",
         says="--positive-above 5: the label 'num' runs from 0 to 4 in the training rows, so "
         "every row would be negative (none is above it); choose a threshold from 0 up to "
         "below 4"),
    case("train-base: --positive-above over every value of a measurement", "train-base",
         "--data", "{heart}", "--label", "thalch", "--positive-above", "500", "--id-column",
         "id", "--out", "{tmp}/b", flag="--positive-above",
         says="--positive-above 500: every value of the label 'thalch' in the training rows is "
         "at or below it, so every row would be negative (none is above it); choose a "
         "threshold within its range (the middle half of its values runs from 120 to 157)"),
    case("adapt: unknown group", *ADAPT[:-1], "Mars", "--out", "{tmp}/a", flag="--group",
         says="not found"),
    case("adapt: no --group", "adapt", "--base", "{base}", "--data", "{heart}", "--out",
         "{tmp}/a", flag="--group", says="--group is required"),
    case("adapt: --group of the base's column not in the file", "adapt", "--base", "{base}",
         "--data", "{no_group}", "--group", VA, "--out", "{tmp}/a", flag="--group-column",
         says="'dataset' is not in the table"),
    case("adapt: wrong label", "adapt", "--base", "{base}", "--data", "{heart}", "--label", "age",
         "--group-column", "dataset", "--group", VA, "--out", "{tmp}/a", flag="--label",
         says="predicts 'num'"),
    case("adapt: --method misspelt", *ADAPT, "--method", "lroa", "--out", "{tmp}/a",
         flag="--method", says="got 'lroa'; did you mean 'lora'?"),
    case("adapt: --method misspelt in other case", *ADAPT, "--method", "loRA2", "--out",
         "{tmp}/a", flag="--method", says="got 'loRA2'; did you mean 'lora'?"),
    case("adapt: --method nope", *ADAPT, "--method", "nope", "--out", "{tmp}/a", flag="--method",
         says="nope"),
    case("adapt: unknown --adapter-options key", *ADAPT, "--method", "lora", "--adapter-options",
         "rank=4", "--out", "{tmp}/a", flag="--adapter-options",
         says="'rank' is not an option of lora (its options: alpha, dropout, r, use_rslora)"),
    case("adapt: --adapter-options r=0", *ADAPT, "--method", "lora", "--adapter-options", "r=0",
         "--out", "{tmp}/a", flag="--adapter-options", says="r must be positive"),
    case("adapt: --adapter-options not a number", *ADAPT, "--method", "dora", "--adapter-options",
         "r=four", "--out", "{tmp}/a", flag="--adapter-options", says="r takes a number (int)"),
    case("adapt: --adapter-options without =", *ADAPT, "--adapter-options", "reduction_factor",
         "--out", "{tmp}/a", flag="--adapter-options", says="write KEY=VALUE pairs"),
    case("adapt: --adapter-options of another method", *ADAPT, "--adapter-options", "r=4",
         "--out", "{tmp}/a", flag="--adapter-options",
         says="r is an option of lora and dora: pass --method"),
    case("adapt: --adapter-options that override each other", *ADAPT, "--adapter-options",
         "reduction_factor=16,d_hidden=8", "--out", "{tmp}/a", flag="--adapter-options",
         says="give reduction_factor or d_hidden, not both"),
    case("adapt: --adapter-options out of range", *ADAPT, "--adapter-options", "dropout=1.5",
         "--out", "{tmp}/a", flag="--adapter-options",
         says="--adapter-options dropout=1.5: dropout must be in [0, 1), got dropout=1.5"),
    case("adapt: --adapter-options repeated", *ADAPT, "--method", "lora", "--adapter-options",
         "r=4,r=2", "--out", "{tmp}/a", flag="--adapter-options", says="r is given twice"),
    case("adapt: --adapter-options infinite", *ADAPT, "--method", "lora", "--adapter-options",
         "alpha=inf", "--out", "{tmp}/a", flag="--adapter-options", says="a finite number"),
    case("adapt: --adapter-options for head", *ADAPT, "--method", "head", "--adapter-options",
         "r=4", "--out", "{tmp}/a", flag="--adapter-options", says="--method head has no options"),
    case("adapt: --adapter-options with full", *ADAPT, "--method", "full", "--adapter-options",
         "r=4", "--out", "{tmp}/a", flag="--adapter-options", says="takes none: drop it"),
    case("adapt: --train-fraction 0", *ADAPT, "--train-fraction", "0", "--out", "{tmp}/a",
         flag="--train-fraction", says="must be a share above 0 and at most 1; got 0"),
    case("adapt: --test-fraction 1", *ADAPT, "--test-fraction", "1", "--out", "{tmp}/a",
         flag="--test-fraction", says="must be a share above 0 and below 1"),
    case("adapt: base missing", "adapt", "--base", "{tmp}/nobase", "--data", "{heart}", "--label",
         "num", "--group-column", "dataset", "--group", VA, "--out", "{tmp}/a", flag="--base",
         says="does not exist; check the path (a base model is the folder 'medadapt train-base "
         "--out' wrote: train one first)"),
    # a trial passed the adapter's printed name as --adapter
    case("predict: adapter by name", "predict", "--base", "{base}", "--adapter",
         "va_long_beach_bottleneck", "--data", "{va}", "--out", "{tmp}/p.csv", flag="--adapter",
         says="does not exist; check the path (an adapter is the folder 'medadapt adapt --out' "
         "wrote, not the name it printed)"),
    case("adapt: broken base", "adapt", "--base", "{broken_base}", "--data", "{heart}",
         "--label", "num", "--group-column", "dataset", "--group", VA, "--out", "{tmp}/a",
         flag="--base", says="not valid JSON"),
    case("adapt: image base, table data", "adapt", "--base", "{image_base}", "--data", "{heart}",
         "--label", "num", "--group-column", "dataset", "--group", VA, "--out", "{tmp}/a",
         flag="--base", says="is not image data (it reads as a table): pass an image folder"),
    case("adapt: table base, image data", "adapt", "--base", "{base}", "--data", "{npz}",
         "--out", "{tmp}/a", flag="--base", says="is not a table (it reads as image data): pass "
         "a CSV, TSV or Parquet table"),
    case("evaluate: --threshold 7", *EVALUATE, "--threshold", "7", flag="--threshold",
         says="between 0 and 1"),
    case("evaluate: no label column", "evaluate", "--base", "{base}", "--data", "{no_label}",
         flag="--data", says="no label column 'num'"),
    case("evaluate: renamed feature", "evaluate", "--base", "{base}", "--data", "{renamed}",
         flag="--allow-absent-columns", says="'chol'"),
    case("evaluate: wrong --label", *EVALUATE, "--label", "age", flag="--label",
         says="predicts 'num'"),
    case("evaluate: the adapter's group column renamed", *EVALUATE[:-1], "{renamed_group}",
         flag="--group-column COL --group 'VA Long Beach'",
         says="has no column 'dataset' to pick that group's rows by: every row would be "
         "scored, whatever its group; pass --group-column COL --group 'VA Long Beach' naming the "
         "column that holds the group in this file (column 'hospital' holds 'VA Long Beach'), "
         "or --all-groups to score every row deliberately"),
    case("evaluate: --all-groups with --group", *EVALUATE, "--all-groups", "--group", VA,
         flag="--all-groups", says="scores every group and --group only one: pass one of them"),
    case("evaluate: adapter of another base", "evaluate", "--base", "{image_base}", "--adapter",
         "{adapter}", "--data", "{npz}", flag="--adapter", says="base"),
    case("evaluate: image base, table data", "evaluate", "--base", "{image_base}", "--data",
         "{heart}", flag="--base", says="image"),
    case("predict: renamed feature", "predict", "--base", "{base}", "--data", "{renamed}",
         "--out", "{tmp}/p.csv", flag="--allow-absent-columns", says="'chol'"),
    case("predict: none of the base's features", "predict", "--base", "{base}", "--data",
         "{other_data}", "--allow-absent-columns", "--out", "{tmp}/p.csv", flag="--base",
         says="none of the model's 13 feature columns ('age', 'sex', 'cp', 'trestbps', 'chol' "
         "and 8 more) is in the table: it was trained on other data than this (predicting "
         "'num'); check --data, or pass the --base trained for it"),
    case("check-data: none of the base's features", "check-data", "--base", "{base}",
         "--data", "{other_data}", "--allow-absent-columns", flag="--base",
         says="none of the model's 13 feature columns"),
    # a trial's breast-cancer base given heart data was told to add the label column, or to
    # use predict (which refuses the file too): the base is what is wrong
    case("check-data: another model's data, without its label", "check-data", "--base",
         "{base}", "--data", "{other_unlabelled}", flag="--base",
         says="none of the model's 13 feature columns ('age', 'sex', 'cp', 'trestbps', 'chol' "
         "and 8 more) is in the table: it was trained on other data than this (predicting "
         "'num'); check --data, or pass the --base trained for it"),
    case("evaluate: another model's data, without its label", "evaluate", "--base", "{base}",
         "--data", "{other_unlabelled}", flag="--base",
         says="none of the model's 13 feature columns"),
    # a trial's diabetes base given heart data (8 of its 10 columns absent) was told to add
    # them as empty columns or pass --allow-absent-columns, and no word of the base
    case("predict: another model's data, a few columns alike", "predict", "--base", "{base}",
         "--data", "{mostly_other}", "--out", "{tmp}/p.csv", flag="--base",
         says="11 of the model's 13 feature columns are not in the table ('cp', 'trestbps', "
         "'chol', 'fbs', 'restecg' and 6 more): it may have been trained on other data than "
         "this (predicting 'num'); check --data, or pass the --base trained for it; if this is "
         "its data, add 'cp', "),
    case("adapt: another model's data, a few columns alike, without its label", "adapt",
         "--base", "{base}", "--data", "{mostly_other}", "--group-column", "dataset",
         "--group", "Cleveland", "--out", "{tmp}/a", flag="--base",
         says="11 of the model's 13 feature columns are not in the table"),
    case("predict: missing data", "predict", "--base", "{base}", "--data", "{tmp}/x.csv",
         "--out", "{tmp}/p.csv", flag="--data", says="does not exist"),
    case("predict: table base, images", "predict", "--base", "{base}", "--data", "{npz}",
         "--out", "{tmp}/p.csv", flag="--base", says="table"),
    case("predict: adapter dir missing", "predict", "--base", "{base}", "--adapter",
         "{tmp}/nope", "--data", "{va}", "--out", "{tmp}/p.csv", flag="--adapter",
         says="nope"),
    case("study: --fractions a size twice", *STUDY, "--fractions", "0.5,1,0.5", "--out",
         "{tmp}/s", flag="--fractions",
         says="--fractions names 0.5 more than once; give each size once"),
    case("study: --fractions 0.5,abc", *STUDY, "--fractions", "0.5,abc", "--out", "{tmp}/s",
         flag="--fractions", says="'abc'"),
    case("study: --fractions 2", *STUDY, "--fractions", "2", "--out", "{tmp}/s",
         flag="--fractions", says="must be a share above 0 and at most 1; got 2"),
    case("study: --fractions in percent", *STUDY, "--fractions", "50,100", "--out", "{tmp}/s",
         flag="--fractions", says="got 50 (a percentage? write 0.5 for 50%)"),
    case("study: --seeds 0", *without(STUDY, "--seeds"), "--seeds", "0", "--out", "{tmp}/s",
         flag="--seeds",
         says="at least 1"),
    case("study: --methods nope", *STUDY, "--methods", "nope", "--out", "{tmp}/s",
         flag="--methods", says="nope"),
    case("study: --workers 0", *STUDY, "--workers", "0", "--out", "{tmp}/s", flag="--workers",
         says="at least 1"),
    case("study: --n-boot 0", *STUDY, "--n-boot", "0", "--out", "{tmp}/s", flag="--n-boot",
         says="at least"),
    case("study: --seeds 100000000", *without(STUDY, "--seeds"), "--seeds", "100000000",
         "--out", "{tmp}/s",
         flag="--seeds", says="at most 1000; got 100000000"),
    case("study: --n-boot 10**9", *STUDY, "--n-boot", "1000000000", "--out", "{tmp}/s",
         flag="--n-boot", says="at most 100000"),
    case("study: --workers 100000", *STUDY, "--workers", "100000", "--out", "{tmp}/s",
         flag="--workers", says="CPU core"),
    case("demo: --seeds 10**6", "demo", "--seeds", "1000000", "--out", "{tmp}/d",
         flag="--seeds", says="at most 1000"),
    case("demo: --n-boot 10**9", "demo", "--n-boot", "1000000000", "--out", "{tmp}/d",
         flag="--n-boot", says="at most 100000; got 1000000000"),
    case("demo: --seeds 0", "demo", "--seeds", "0", "--out", "{tmp}/d", flag="--seeds",
         says="at least 1"),
    case("study: --methods misspelt", *STUDY, "--methods", "lorra", "--out", "{tmp}/s",
         flag="--methods", says="did you mean 'lora'?"),
    case("study: --group with a base, its column not in the file", "study", "--data",
         "{no_group}", "--base", "{base}", "--group", VA, "--out", "{tmp}/s",
         flag="--group-column", says="'dataset' is not in the table"),
    case("study: target among sources", "study", *TABLE, *GROUPS, "--group", "Hungary",
         "--out", "{tmp}/s", flag="--group", says="also one of --groups"),
    case("study: --groups missing", "study", *TABLE, "--group-column", "dataset", "--group", VA,
         "--out", "{tmp}/s", flag="--groups", says="--groups is required"),
    case("study: options of a method not run", *STUDY, "--methods", "base_only,bottleneck",
         "--adapter-options", "lora:r=4", "--out", "{tmp}/s", flag="--adapter-options",
         says="'lora' is not an adapter method this study runs (it runs bottleneck)"),
    case("study: options without a method", *STUDY, "--adapter-options", "r=4", "--out",
         "{tmp}/s", flag="--adapter-options", says="write METHOD:KEY=VALUE"),
    case("study: another method's option", *STUDY, "--adapter-options",
         "lora:reduction_factor=4", "--out", "{tmp}/s", flag="--adapter-options",
         says="'reduction_factor' is not an option of lora"),
    # ----- images -----------------------------------------------------------------------------
    case("images: --image-size 0", *without(TRAIN_IMAGES[:-2], "--image-size"), "--image-size",
         "0", "--epochs", "1",
         "--out", "{tmp}/b", flag="--image-size", says="at least"),
    case("images: depth=two", "train-base", "--data", "{npz}", "--image-size", "32",
         "--backbone-options", "depth=two", "--out", "{tmp}/b", flag="--backbone-options",
         says="depth must be a whole number"),
    case("images: bogus=3", "train-base", "--data", "{npz}", "--image-size", "32",
         "--backbone-options", "bogus=3", "--out", "{tmp}/b", flag="--backbone-options",
         says="no option 'bogus'"),
    case("images: embed_dim=30,num_heads=4", "train-base", "--data", "{npz}", "--image-size",
         "32", "--backbone-options", "embed_dim=30,num_heads=4", "--out", "{tmp}/b",
         flag="--backbone-options", says="multiple of num_heads"),
    case("images: --backbone-options garbage", "train-base", "--data", "{npz}",
         "--backbone-options", "depth", "--out", "{tmp}/b", flag="--backbone-options",
         says="must look like"),
    case("images: --backbone unknown", *TRAIN_IMAGES, "--backbone", "timm:resnet50", "--out",
         "{tmp}/b", flag="--backbone", says="resnet50"),
    case("images: --channels 2", *TRAIN_IMAGES, "--channels", "2", "--out", "{tmp}/b",
         flag="--channels", says="1, 3"),
    case("images: --window on npz", *TRAIN_IMAGES, "--window", "brain", "--out", "{tmp}/b",
         flag="--window", says="window"),
    case("images: --window garbage", "train-base", "--data", "{png_csv}", *TINY_IMAGE,
         "--window", "40,abc", "--out", "{tmp}/b", flag="--window", says="LEVEL,WIDTH"),
    case("images: --spatial-dims 4", *TRAIN_IMAGES, "--spatial-dims", "4", "--out", "{tmp}/b",
         flag="--spatial-dims", says="2, 3"),
    case("images: --slices abc", *TRAIN_IMAGES, "--slices", "abc", "--out", "{tmp}/b",
         flag="--slices", says="middle"),
    case("images: --split nope", *TRAIN_IMAGES, "--split", "nope", "--out", "{tmp}/b",
         flag="--split", says="train"),
    case("images: --on-error ignore", *TRAIN_IMAGES, "--on-error", "ignore", "--out", "{tmp}/b",
         flag="--on-error", says="refuse or skip"),
    case("images: --normalize bogus", *TRAIN_IMAGES, "--normalize", "bogus", "--out", "{tmp}/b",
         flag="--normalize", says="bogus"),
    case("images: --spacing 1,2", *TRAIN_IMAGES, "--spacing", "1,2", "--out", "{tmp}/b",
         flag="--spacing", says="three voxel sizes"),
    case("images: --epochs -1", *TRAIN_IMAGES[:-2], "--epochs", "-1", "--out", "{tmp}/b",
         flag="--epochs", says="at least 1"),
    case("images: --lr -1", *TRAIN_IMAGES, "--lr", "-1", "--out", "{tmp}/b", flag="--lr",
         says="positive"),
    case("images: --class-names too few", "train-base", "--data", "{npz}", "--class-names",
         "a,b", *TINY_IMAGE, "--out", "{tmp}/b", flag="--class-names", says="only 2 names"),
    case("images: npz with NaN", "train-base", "--data", "{nan_npz}", *TINY_IMAGE, "--out",
         "{tmp}/b", flag="--data", says="NaN"),
    case("images: npz without images", "train-base", "--data", "{no_images_npz}", *TINY_IMAGE,
         "--out", "{tmp}/b", flag="--split", says="train_images"),
    case("images: fake npz", "train-base", "--data", "{fake_npz}", *TINY_IMAGE, "--out",
         "{tmp}/b", flag="--data", says="not a valid .npz"),
    case("images: pickled npz", "train-base", "--data", "{pickle_npz}", *TINY_IMAGE, "--out",
         "{tmp}/b", flag="--data", says="objects"),
    case("images: path CSV without labels", "train-base", "--data", "{png_no_label}",
         *TINY_IMAGE, "--out", "{tmp}/b", flag="--label", says="label"),
    case("images: path CSV of missing files", "train-base", "--data", "{png_missing}",
         *TINY_IMAGE, "--out", "{tmp}/b", flag="", says="none of the 2 image files listed"),
    case("images: --allow-leak on images", *TRAIN_IMAGES, "--allow-leak", "x", "--out",
         "{tmp}/b", flag="--allow-leak", says="applies to tables"),
    case("images: --positive-above on images", *TRAIN_IMAGES, "--positive-above", "0", "--out",
         "{tmp}/b", flag="--positive-above", says="applies to tables"),
    case("tables: --image-size on a table", *TRAIN, "--image-size", "32", "--out", "{tmp}/b",
         flag="--image-size", says="applies to image data"),
    case("images adapt: --top-blocks 0", "adapt", "--base", "{image_base}", "--data", "{npz}",
         "--top-blocks", "0", "--out", "{tmp}/a", flag="--top-blocks", says="at least 1"),
    case("images adapt: --new-classes empty", "adapt", "--base", "{image_base}", "--data",
         "{npz}", "--new-classes", ",", "--out", "{tmp}/a", flag="--new-classes", says="empty"),
    # a new-user trial on images: each was a traceback, or trained what was not meant
    case("images: --test-fraction 0.99 holds out every image", *TRAIN_IMAGES,
         "--test-fraction", "0.99", "--out", "{tmp}/b", flag="--test-fraction",
         says="holds out 36 of the 36 image files, leaving none to train on"),
    case("images: --test-fraction 0.95 leaves fewer than one per class", *TRAIN_IMAGES,
         "--test-fraction", "0.95", "--out", "{tmp}/b", flag="--test-fraction",
         says="holds out 35 of the 36 image files, leaving 1 to train on, fewer than the 3 "
         "classes"),
    case("images adapt: --test-fraction 0.9", "adapt", "--base", "{image_base}", "--data",
         "{png_dir}", "--test-fraction", "0.9", "--out", "{tmp}/a", flag="--test-fraction",
         says="holds out 11 of the 12 image files, leaving 1 to train on, fewer than the 2 "
         "classes"),
    case("images: --image-size 100000", *without(TRAIN_IMAGES[:-2], "--image-size"),
         "--image-size", "100000",
         "--epochs", "1", "--out", "{tmp}/b", flag="--image-size",
         says="is more than the 2048 px per side medadapt reads a 2D image at"),
    case("images: --image-size 300 for volumes", *without(TRAIN_IMAGES[:-2], "--image-size"),
         "--image-size", "300",
         "--spatial-dims", "3", "--epochs", "1", "--out", "{tmp}/b", flag="--image-size",
         says="more than the 256 px per side medadapt reads a volume"),
    case("images: --positive-class spelt otherwise", "train-base", "--data", "{png_dir}",
         *TINY_IMAGE, "--positive-class", "Mass", "--out", "{tmp}/b", flag="--positive-class",
         says="is not a class of the data (did you mean 'mass'?)"),
    case("images: classes a level down", "train-base", "--data", "{tmp}/both", *TINY_IMAGE,
         "--out", "{tmp}/b", flag="--data",
         says="'hospA' holds sub-folders lesion, normal, as does every other folder in ",
         existing={f"both/{site}/{c}/1.png": "x" for site in ("hospA", "hospB")
                   for c in ("normal", "lesion")}),
    case("images adapt: an .npz without the new class's index", "adapt", "--base",
         "{image_base}", "--data", "{npz}", "--new-classes", "cavity", "--out", "{tmp}/a",
         flag="--new-classes", says="so 'cavity' is label 3, but the labels of old.npz are "
         "0, 1, 2"),
    # ----- registry ---------------------------------------------------------------------------
    case("registry: no --root", "registry", "list", flag="--root", says="--root is missing"),
    case("registry: add a missing dir", "registry", "--root", "{tmp}/reg", "add", "{tmp}/none",
         flag="", says="none"),
    case("registry: add a table file", "registry", "--root", "{tmp}/reg", "add", "{heart}",
         flag="", says="adapter"),
    case("registry: import a text file", "registry", "--root", "{tmp}/reg", "import", "{text}",
         flag="", says="archive"),
    case("registry: --notes missing", *REGISTRY, "add", "{adapter}", "--name", "va2", "--notes",
         "{tmp}/notes.md", flag="--notes", says="does not exist"),
    case("registry: show unknown", *REGISTRY, "show", "nope", flag="", says="nope"),
    case("registry: show bad version", *REGISTRY, "show", "va@abc", flag="", says="va@abc"),
    case("registry: promote unknown version", *REGISTRY, "promote", "va@9", flag="",
         says="no version 9"),
    case("registry: rm unknown", *REGISTRY, "rm", "nope@1", flag="", says="nope"),
    case("registry: diff unknown", *REGISTRY, "diff", "va@1", "va@7", flag="",
         says="no version 7"),
    case("registry: export exists", *REGISTRY, "export", "va@1", "-o", "{tmp}/va.tar",
         flag="--force", says="already exists", existing={"va.tar": "old"}),
    case("registry: export under a file", *REGISTRY, "export", "va@1", "-o", "{tmp}/f/va.tar",
         flag="-o", says="is a file", existing={"f": "x"}),
    case("registry: root is a file", "registry", "--root", "{text}", "list", flag="--root",
         says="is a file"),
    # ----- serve ------------------------------------------------------------------------------
    case("serve: registry missing", "serve", "--registry", "{tmp}/none", flag="--registry",
         says="none"),
    case("serve: token file missing", "serve", "--registry", "{registry}", "--token-file",
         "{tmp}/t", flag="--token-file", says="does not exist"),
    case("serve: a host that is no IP address, before the token", "serve", "--registry",
         "{registry}", "--host", "999.1.1.1", flag="--host",
         says="--host 999.1.1.1 is not an IP address (IPv4: four numbers 0-255, as 127.0.0.1)"),
    case("serve: open interface without token", "serve", "--registry", "{registry}", "--host",
         "0.0.0.0", flag="--token-file", says="without a token"),
    case("serve: --port 99999", "serve", "--registry", "{registry}", "--port", "99999",
         flag="--port", says="1-65535"),
    case("serve: --max-batch 0", "serve", "--registry", "{registry}", "--max-batch", "0",
         flag="--max-batch", says="at least 1"),
    # ----- usage errors (click) ---------------------------------------------------------------
    case("usage: --port abc", "serve", "--registry", "{registry}", "--port", "abc",
         flag="--port", says="abc"),
    case("usage: unknown option", *EVALUATE, "--colour", "red", flag="--colour",
         says="No such option"),
    case("usage: missing --base", "evaluate", "--data", "{heart}", flag="--base",
         says="Missing option"),
    # ----- more, from trying the commands as a new user ---------------------------------------
    case("train-base: --seed -1", *TRAIN, "--seed", "-1", "--out", "{tmp}/b", flag="--seed",
         says="between 0 and 4294967295"),
    case("train-base: categorical and numeric", *TRAIN, "--categorical", "age", "--numeric",
         "age", "--out", "{tmp}/b", flag="--numeric", says="both"),
    case("train-base: exclude the label", *TRAIN, "--exclude", "num", "--out", "{tmp}/b",
         flag="--exclude", says="names the label"),
    case("train-base: id column is the label", "train-base", *TABLE, "--id-column", "num",
         "--out", "{tmp}/b", flag="--id-column", says="also the --label column"),
    case("train-base: group column is the label", "train-base", *TABLE, "--group-column", "num",
         "--out", "{tmp}/b", flag="--group-column", says="also the --label column"),
    case("train-base: --task against --positive-above", *TRAIN, "--task", "multiclass",
         "--out", "{tmp}/b", flag="--positive-above", says="binary"),
    case("train-base: unknown --group-column", "train-base", *TABLE, "--group-column", "site",
         "--groups", "A", "--out", "{tmp}/b", flag="--group-column", says="'site'"),
    case("train-base: unknown --id-column", "train-base", *TABLE, "--id-column", "mrn",
         "--out", "{tmp}/b", flag="--id-column", says="'mrn'"),
    case("images: duplicate backbone option", *TRAIN_IMAGES, "--backbone-options",
         "depth=1,depth=2", "--out", "{tmp}/b", flag="--backbone-options", says="twice"),
    case("images: --normalize with zero std", *TRAIN_IMAGES, "--normalize", "0.5,0", "--out",
         "{tmp}/b", flag="--normalize", says="std"),
    case("images: --out inside --data", "train-base", "--data", "{png_dir}", *TINY_IMAGE,
         "--out", "{png_dir}/model", flag="--out", says="inside --data"),
    case("adapt: --out is the base", *ADAPT, "--out", "{base}", "--force", flag="--out",
         says="is the --base folder itself"),
    case("predict: --out is the data", "predict", "--base", "{base}", "--data", "{va}", "--out",
         "{va}", "--force", flag="--out", says="would overwrite --data"),
    case("evaluate: --report into the base", *EVALUATE, "--report", "{base}/model.json",
         "--force", flag="--report", says="would overwrite model.json in --base"),
    case("predict: --out into the image folder", "predict", "--base", "{image_base}", "--data",
         "{png_dir}", "--out", "{png_dir}/p.csv", flag="--out", says="is inside --data"),
    case("evaluate: --group empty", *EVALUATE, "--group-column", "dataset", "--group", "",
         flag="--group", says="empty"),
    case("study: --fractions empty", *STUDY, "--fractions", "", "--out", "{tmp}/s",
         flag="--fractions", says="empty"),
    case("study: image option on a table", *STUDY, "--channels", "1", "--out", "{tmp}/s",
         flag="--channels", says="applies to image data"),
    case("study: table option on images", "study", "--data", "{npz}", "--base", "{image_base}",
         "--positive-above", "0", "--out", "{tmp}/s", flag="--positive-above",
         says="applies to tables"),
    case("registry: list an unknown name", *REGISTRY, "list", "nope", flag="", says="'nope'"),
    case("registry: clear an unknown name", *REGISTRY, "promote", "--clear", "nope", flag="",
         says="no adapter named 'nope'"),
    case("registry: log an unknown name", *REGISTRY, "log", "nope", flag="",
         says="no adapter named 'nope'"),
    case("registry: --limit 0", *REGISTRY, "log", "--limit", "0", flag="--limit",
         says="at least 1"),
    case("registry: gc --min-age -1", *REGISTRY, "gc", "--min-age", "-1", flag="--min-age",
         says="0 or more"),
    case("registry: rm --all with a version", *REGISTRY, "rm", "va@1", "--all", flag="--all",
         says="takes a NAME"),
    case("registry: --name with a space", "registry", "--root", "{tmp}/reg", "add", "{adapter}",
         "--name", "a b", flag="--name", says="invalid"),
    case("registry: import a directory", "registry", "--root", "{tmp}/reg", "import", "{tmp}",
         flag="", says="is a directory"),
    case("registry: import a missing file", "registry", "--root", "{tmp}/reg", "import",
         "{tmp}/x.tar.gz", flag="", says="does not exist"),
    case("serve: --threads 0", "serve", "--registry", "{registry}", "--threads", "0",
         flag="--threads", says="at least 1"),
    case("serve: --threads 100000", "serve", "--registry", "{registry}", "--threads",
         "100000", flag="--threads", says="CPU core"),
    case("serve: --decode-workers 100000", "serve", "--registry", "{registry}",
         "--decode-workers", "100000", flag="--decode-workers", says="CPU core"),
    case("serve: --max-wait-ms -5", "serve", "--registry", "{registry}", "--max-wait-ms", "-5",
         flag="--max-wait-ms", says="at least 0"),
    case("serve: --max-images 0", "serve", "--registry", "{registry}", "--max-images", "0",
         flag="--max-images", says="at least 1"),
    case("serve: --max-image-mb 0", "serve", "--registry", "{registry}", "--max-image-mb", "0",
         flag="--max-image-mb", says="must be positive"),
    case("serve: --dicomweb-archive names a study", "serve", "--registry", "{registry}",
         "--dicomweb-archive", "http://pacs/dicom-web/studies/1.2", flag="--dicomweb-archive",
         says="is not a DICOMweb root"),
    case("serve: a password and a token for the archive", "serve", "--registry", "{registry}",
         "--dicomweb-archive", "http://u:pw@pacs/dicom-web", "--dicomweb-token-file",
         "{heart}", flag="--dicomweb-token-file", says="pass one of them, not both"),
    case("serve: a study as archive, password not shown", "serve", "--registry", "{registry}",
         "--dicomweb-archive", "http://u:s3cret@pacs/dicom-web/studies/1.2",
         flag="--dicomweb-archive", says="http://pacs/dicom-web/studies/1.2 is not a DICOMweb"),
    case("serve: --store-sr without an archive", "serve", "--registry", "{registry}",
         "--store-sr", flag="--dicomweb-archive", says="--store-sr stores results"),
    case("adapt: --force into a study's folder", *ADAPT, "--out", "{tmp}/s", "--force",
         flag="--out", says="holds a study (study.json), which writing this output into it "
         "would break, even with --force", existing={"s/study.json": "{}"}),
    case("evaluate: --group twice", *EVALUATE, "--group-column", "dataset", "--group", VA,
         "--group", "Hungary", flag="--group", says="--group is given twice: give it once"),
    case("adapt: --out twice", *ADAPT, "--out", "{tmp}/a", "--out={tmp}/b", flag="--out",
         says="--out is given twice: give it once"),
    case("demo: --force into a registry", "demo", "--out", "{tmp}/r", "--force", flag="--out",
         says="holds a model registry (registry.sqlite), which writing this output into it "
         "would break, even with --force", existing={"r/registry.sqlite": ""}),
    case("study: --force into a base model's folder", *STUDY, "--out", "{tmp}/b", "--force",
         flag="--out", says="holds a base model (model.json), which writing this output into "
         "it would break, even with --force", existing={"b/model.json": "{}"}),
    case("adapt: --force into a registry", *ADAPT, "--out", "{tmp}/r", "--force", flag="--out",
         says="holds a model registry (registry.sqlite)", existing={"r/registry.sqlite": ""}),
    case("train-base: --force into a federated run", *TRAIN, "--out", "{tmp}/f", "--force",
         flag="--out", says="holds a federated run (federated.json)",
         existing={"f/federated.json": "{}"}),
    # a trial's `federate simulate --out BASE --force` overwrote the base's split.json
    case("federate: --force into a base model's folder", *ON_BASE_GROUPS, "--out", "{tmp}/b",
         "--force", flag="--out", says="holds a base model (model.json), which writing this "
         "output into it would break, even with --force", existing={"b/model.json": "{}"}),
    case("federate: --force into a registry", *ON_BASE_GROUPS, "--out", "{tmp}/r", "--force",
         flag="--out", says="holds a model registry (registry.sqlite)",
         existing={"r/registry.sqlite": ""}),
    case("federate: --force into an adapter's folder", *ON_BASE_GROUPS, "--out", "{tmp}/a",
         "--force", flag="--out", says="holds an adapter (adapter.json)",
         existing={"a/adapter.json": "{}"}),
    case("federate: --force into a site's kept adapter", *ON_BASE_GROUPS, "--out", "{tmp}/k",
         "--force", flag="--out", says="holds a site's federated adapter (federate client "
         "--out) (federated/adapter.json)", existing={"k/federated/adapter.json": "{}"}),
    case("federate server: --force into a registry", "federate", "server", "--base", "{base}",
         "--groups", "A,B", "--insecure", "--out", "{tmp}/r", "--force", flag="--out",
         says="holds a model registry (registry.sqlite)", existing={"r/registry.sqlite": ""}),
    case("federate client: --force into a federated run", "federate", "client", "--server",
         "127.0.0.1:9", "--site", "A", "--data", "{va}", "--base", "{base}", "--insecure",
         "--out", "{tmp}/f", "--force", flag="--out", says="holds a federated run "
         "(federated.json)", existing={"f/federated.json": "{}"}),
    case("serve: --dicomweb-timeout 0", "serve", "--registry", "{registry}", "--dicomweb-archive",
         "http://pacs/dicom-web", "--dicomweb-timeout", "0", flag="--dicomweb-timeout",
         says="must be positive"),
    case("predict PACS: --dicomweb-timeout nan", "predict", "--base", "{image_base}", "--data",
         "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.3", "--dicomweb-timeout", "nan",
         "--out", "{tmp}/p.csv", flag="--dicomweb-timeout", says="must be a finite number"),
    case("predict: --dicomweb-timeout on local files", "predict", "--base", "{image_base}",
         "--data", "{npz}", "--dicomweb-timeout", "5", "--out", "{tmp}/p.csv",
         flag="--dicomweb-timeout", says="applies to --data dicomweb+http(s)://"),
    case("serve: --device cuda:7", "serve", "--registry", "{registry}", "--device", "cuda:7",
         flag="--device", says="cuda:7"),
    case("train-base: --numeric on a text column", *TRAIN, "--numeric", "sex", "--out",
         "{tmp}/b", flag="--numeric", says="holds no numbers"),
    case("images: --split on a folder", "train-base", "--data", "{png_dir}", *TINY_IMAGE,
         "--split", "val", "--out", "{tmp}/b", flag="--split", says="applies to .npz files"),
    case("images: a class without images", "train-base", "--data", "{npz}", "--class-names",
         "normal,nodule,mass,extra", *TINY_IMAGE, "--out", "{tmp}/b", flag="--class-names",
         says="class 'extra' has no images"),
    case("images: --window a bare number", "train-base", "--data", "{png_csv}", *TINY_IMAGE,
         "--window", "40", "--out", "{tmp}/b", flag="--window", says="or LEVEL,WIDTH in HU"),
    case("images: --window of width 0", "train-base", "--data", "{png_csv}", *TINY_IMAGE,
         "--window", "40,0", "--out", "{tmp}/b", flag="--window", says="width must be positive"),
    case("images: --window nan", "train-base", "--data", "{png_csv}", *TINY_IMAGE,
         "--window", "nan,400", "--out", "{tmp}/b", flag="--window", says="finite numbers"),
    case("images evaluate: a group column the CSV lacks", "evaluate", "--base", "{image_base}",
         "--data", "{png_csv}", "--group-column", "hospital", "--group", "A",
         flag="--group-column", says="has no group column 'hospital'"),
    case("images evaluate: --group-column on a folder", "evaluate", "--base", "{image_base}",
         "--data", "{png_dir}", "--group-column", "site", "--group", "A",
         flag="--group-column", says="is a folder"),
    case("images evaluate: --threshold for three classes", "evaluate", "--base",
         "{image_base}", "--data", "{npz}", "--threshold", "0.3", flag="--threshold",
         says="this model predicts one of several classes: leave --threshold out"),
    # no --group given: the fix is more images, not a --group (which it used to name)
    case("images adapt: every training image of one new class", "adapt", "--base",
         "{image_base}", "--data", "{png_cavity_only}", "--new-classes", "cavity", "--out",
         "{tmp}/a", flag="--data", says="have only one class ('cavity'); an adapter needs at "
         "least two classes: add images of another class to --data"),
    case("images adapt: training images of one class", "adapt", "--base", "{image_base}",
         "--data", "{png_one_class}", "--out", "{tmp}/a", flag="--data",
         says="have only one class ('normal'); an adapter needs at least two classes: add "
         "images of another class to --data"),
    case("images: --id-column on an .npz", *TRAIN_IMAGES, "--id-column", "patient", "--out",
         "{tmp}/b", flag="--id-column", says="is an .npz archive"),
    case("evaluate: only training rows", "evaluate", "--base", "{base}", "--data",
         "{train_rows}", flag="--data", says="was used in training"),
    case("serve: --port 0", "serve", "--registry", "{registry}", "--port", "0", flag="--port",
         says="1-65535"),
    # ----- federate (refused before Flower starts) ---------------------------------------------
    case("federate: neither --base nor --base-groups", *FEDERATE, "--out", "{tmp}/f",
         flag="--base-groups", says="pass --base BASE"),
    case("federate: both --base and --base-groups", *FEDERATE, "--base", "{base}",
         "--base-groups", "Cleveland", "--out", "{tmp}/f", flag="--base-groups",
         says="--base and --base-groups are two ways to get a base model: pass one of them"),
    # with --base, what train-base decided is the base's (each was ignored without a word)
    case("federate --base: another --positive-above", *ON_A_BASE, "--positive-above", "1",
         flag="--positive-above", says="is chosen at train-base and kept with the model, so "
         "federate simulate does not take it with --base (the base's outcome is used as "
         "train-base defined it: --positive-above 0): drop it, or train a new base with it "
         "(--base-groups instead of --base, or train-base --positive-above)"),
    case("federate --base: --missing-code", *ON_A_BASE, "--missing-code", "chol=0",
         flag="--missing-code", says="(the base's codes are read as missing, and so is an "
         "empty cell: leave a code only --data writes as empty cells there)"),
    case("federate --base: --task", *ON_A_BASE, "--task", "regression", flag="--task",
         says="(the base's task is used: --task binary)"),
    case("federate --base: --exclude", *ON_A_BASE, "--exclude", "age", flag="--exclude",
         says="(the base's columns are read as it read them)"),
    case("federate --base: --d-token", *ON_A_BASE, "--d-token", "32", flag="--d-token",
         says="(the base's architecture is used)"),
    case("federate --base: --id-column not the base's (nor a column)", *ON_A_BASE, "--id-column",
         "patient", flag="--id-column", says="(the base's id column is used: --id-column id)"),
    case("federate --base: --allow-leak not an input", *ON_A_BASE, "--allow-leak", "oldpeek",
         flag="--allow-leak", says="'oldpeek' is not an input of the base model (its inputs: "
         "age, sex, "),
    case("adapt: --allow-leak not an input", *ADAPT, "--allow-leak", "nosuch", "--out",
         "{tmp}/a", flag="--allow-leak", says="; name one of them, or drop it"),
    case("federate: --base a federated run's folder", "federate", "simulate", *TABLE, *GROUPS,
         "--base", "{tmp}/fed", "--out", "{tmp}/f", flag="--base",
         says="fed is a federated run's folder; its base model is ",
         existing={"fed/base/model.json": "{}", "fed/adapter.json": "{}"}),
    case("federate: --base an adapter", "federate", "simulate", *TABLE, *GROUPS, "--base",
         "{adapter}", "--out", "{tmp}/f", flag="--base",
         says="is an adapter (adapter.json), not a base model; it adapts the base model in "),
    case("federate server: --base a federated run's folder", "federate", "server", "--base",
         "{tmp}/fed", "--groups", "A,B", "--insecure", "--out", "{tmp}/f", flag="--base",
         says="its base model is ", existing={"fed/base/model.json": "{}"}),
    case("federate: a --label the base does not predict, on data without the base's",
         "federate", "simulate", "--data", "{no_label}", "--label", "age", *GROUPS, "--base",
         "{base}", "--out", "{tmp}/f", flag="--base", says="the base model predicts 'num', not "
         "'age', and --data "),
    case("federate: a measured label, every value above the base's threshold", "federate",
         "simulate", "--data", "{tmp}/m.csv", "--label", "num", "--group-column", "dataset",
         "--groups", f"Hungary,{VA}", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says=f"site {VA}: every value of label 'num' is above the base model's threshold 0 (it "
         "predicts num > 0), so all 200 rows are one class: this data is not what the base was "
         "trained for", existing={"m.csv": _measured_label()}),
    case("federate: unknown --strategy", *FEDERATE, "--base", "{base}", "--strategy", "fedsgd",
         "--out", "{tmp}/f", flag="--strategy", says="must be one of fedavg"),
    case("federate: --workers 0", *ON_A_BASE, "--workers", "0", flag="--workers",
         says="at least 1"),
    case("federate: --workers 100000", *ON_A_BASE, "--workers", "100000", flag="--workers",
         says="CPU core"),
    case("federate: one site", "federate", "simulate", *TABLE, "--group-column", "dataset",
         "--groups", "Hungary", "--base", "{base}", "--out", "{tmp}/f", flag="--groups",
         says="needs at least two"),
    case("federate: --method full", *FEDERATE, "--base", "{base}", "--method", "full", "--out",
         "{tmp}/f", flag="--method", says="must be one of"),
    case("federate: --adapter-options of another method", *FEDERATE, "--base", "{base}",
         "--adapter-options", "reduction_factor=8", "--out", "{tmp}/f", flag="--adapter-options",
         says="'reduction_factor' is not an option of lora"),
    case("federate: --dp-clip without --dp-noise", *FEDERATE, "--base", "{base}", "--dp-clip",
         "1", "--out", "{tmp}/f", flag="--dp-noise", says="needs both"),
    case("federate: --rounds 0", *FEDERATE, "--base", "{base}", "--rounds", "0", "--out",
         "{tmp}/f", flag="--rounds", says="at least 1"),
    case("federate: --out holds other files", *FEDERATE, "--base", "{base}", "--out", "{tmp}/o",
         flag="--force", says="is not empty", existing={"o/notes.txt": "mine"}),
    case("federate server: no certificates", "federate", "server", "--base", "{base}",
         "--groups", "A,B", "--out", "{tmp}/f", flag="--certificates", says="TLS is on"),
    case("federate server: certificates lack a key", "federate", "server", "--base", "{base}",
         "--groups", "A,B", "--certificates", "{tmp}", "--out", "{tmp}/f",
         flag="--certificates", says="lacks ca.crt, server.pem, server.key: make them with "
         "'medadapt federate certificates --out DIR'"),
    case("federate client: a file without the label", "federate", "client", "--server",
         "127.0.0.1:9", "--site", "A", "--data", "{no_label}", "--base", "{base}", "--insecure",
         flag="--data", says="has no label column"),
    case("federate client: --base is an adapter", "federate", "client", "--server",
         "127.0.0.1:9", "--site", "A", "--data", "{va}", "--base", "{adapter}", "--insecure",
         flag="--base", says="holds no model.json"),
    case("federate client: too few rows", "federate", "client", "--server", "127.0.0.1:9",
         "--site", "A", "--data", "{tmp}/few.csv", "--base", "{base}", "--insecure",
         flag="--data", says="too few to train and test", existing={"few.csv": FEW_ROWS}),
    case("federate certificates: --out holds some", "federate", "certificates", "--out",
         "{tmp}/c", flag="--force", says="already holds ca.crt", existing={"c/ca.crt": "mine"}),
    case("federate: a site not in the data", "federate", "simulate", *TABLE, "--group-column",
         "dataset", "--groups", "Hungary,Basel", "--base", "{base}", "--out", "{tmp}/f",
         flag="--groups", says="'Basel' not found in column 'dataset'"),
    case("federate: a group column not in the data", "federate", "simulate", *TABLE,
         "--group-column", "site", "--groups", "A,B", "--base", "{base}", "--out", "{tmp}/f",
         flag="--group-column", says="'site' is not in the table"),
    case("federate: another label than the base's", "federate", "simulate", "--data",
         "{heart}", "--label", "age", *GROUPS, "--base", "{base}", "--out", "{tmp}/f",
         flag="--label", says="the base model predicts 'num'"),
    case("federate server: --insecure and --certificates", "federate", "server", "--base",
         "{base}", "--groups", "A,B", "--insecure", "--certificates", "{tmp}", "--out",
         "{tmp}/f", flag="--certificates", says="contradict each other"),
    case("federate certificates: --force into a base model's folder", "federate",
         "certificates", "--out", "{tmp}/b", "--force", flag="--out",
         says="holds a base model (model.json), which writing this output into it would "
         "break, even with --force", existing={"b/model.json": "{}"}),
    case("federate certificates: inside a base model's folder", "federate", "certificates",
         "--out", "{tmp}/b/certs", flag="--out", says="which holds a base model: the server's "
         "private key would travel with it", existing={"b/model.json": "{}"}),
    case("federate certificates: into a registry", "federate", "certificates", "--out",
         "{tmp}/r", flag="--out", says="holds a model registry (registry.sqlite)",
         existing={"r/registry.sqlite": ""}),
    case("federate certificates: into a federated run", "federate", "certificates", "--out",
         "{tmp}/f", flag="--out", says="holds a federated run (federated.json)",
         existing={"f/federated.json": "{}"}),
    case("federate: --split-column names a record-number column", "federate", "simulate",
         *TABLE, *GROUPS, "--base", "{base}", "--split-column", "id", "--out", "{tmp}/f",
         flag="--split-column", says="holds values other than 'train' and 'test' in"),
    case("federate: --split-column not a column", "federate", "simulate", *TABLE, *GROUPS,
         "--base", "{base}", "--split-column", "Split", "--out", "{tmp}/f",
         flag="--split-column", says="is not a column of --data"),
    case("federate: --epochs with --base", "federate", "simulate", *TABLE, *GROUPS,
         "--base", "{base}", "--epochs", "3", "--out", "{tmp}/f", flag="--local-epochs",
         says="--epochs sets how long a base trained here (--base-groups) trains; with --base, "
         "set how many epochs each site trains per round with --local-epochs"),
    case("train-base: --epochs 0 for a table", *TRAIN, "--epochs", "0", "--out", "{tmp}/b",
         flag="--epochs", says="--epochs"),
    case("train-base: --patience 0 for a table", *TRAIN, "--patience", "0", "--out", "{tmp}/b",
         flag="--patience", says="--patience must be at least 1; got 0"),
    case("train-base: --patience 0 for images", *TRAIN_IMAGES, "--patience", "0", "--out",
         "{tmp}/b", flag="--patience", says="--patience must be at least 1; got 0"),
    case("adapt: --patience -3", *ADAPT, "--patience", "-3", "--out", "{tmp}/a",
         flag="--patience", says="--patience must be at least 1; got -3"),
    case("federate: --positive-class absent from the base's rows", "federate", "simulate",
         "--data", "{heart}", "--label", "num", "--positive-class", "2", *GROUPS,
         "--base-groups", "Hungary", "--out", "{tmp}/f", flag="--positive-class",
         says="is not a value of label column 'num' in the rows read to train and test the "
         "model; they "
         "have '0' "
         "(188 rows) and '1' (106 rows)"),  # Hungary's, not the whole file's
    case("federate: a misspelt --base-groups with --positive-class", "federate", "simulate",
         "--data", "{heart}", "--label", "num", "--positive-class", "1", *GROUPS,
         "--base-groups", "Clevland", "--out", "{tmp}/f", flag="--base-groups",
         says="--base-groups: group 'Clevland' not found in column 'dataset'"),
    case("federate: --base names the base's model.json", "federate", "simulate", *TABLE,
         *GROUPS, "--base", "{base}/model.json", "--out", "{tmp}/f", flag="--base",
         says="is a file, not a base model's folder: pass its folder, --base "),
    case("adapt: --base names a CSV", "adapt", "--base", "{heart}", "--data", "{heart}",
         "--group-column", "dataset", "--group", VA, "--out", "{tmp}/a",
         flag="--base", says="is a file, not a base model's folder: point --base at a "
         "directory written by 'medadapt train-base'"),
    case("federate certificates: --out is a file", "federate", "certificates", "--out",
         "{tmp}/f", flag="--out", says="is a file", existing={"f": "mine"}),
    case("federate client: --server without a port", "federate", "client", "--server",
         "fl.example.org", "--site", "A", "--data", "{heart}", "--base", "{base}",
         "--insecure", flag="--server", says="must be HOST:PORT"),
    case("federate client: --root-certificates a folder", "federate", "client", "--server",
         "127.0.0.1:9092", "--site", "A", "--data", "{heart}", "--base", "{base}",
         "--root-certificates", "{tmp}", flag="--root-certificates", says="is not a file"),
    case("federate client: no root certificates", "federate", "client", "--server",
         "127.0.0.1:9", "--site", "A", "--data", "{heart}", "--base", "{base}",
         flag="--root-certificates", says="TLS is on"),
    # ----- outputs that would replace an input, or each other (even with --force) ---------------
    case("check-data: --json is the data", "check-data", "--data", "{heart}", "--base", "{base}",
         "--json", "{heart}", "--force", flag="--json", says="would overwrite --data"),
    case("check-data: --json onto another data file, with --force", "check-data", "--data",
         "{heart}", "--base", "{base}", "--json", "{tmp}/other.csv", "--force", flag="--json",
         says="the figures are written as JSON; give a file name ending in .json",
         existing={"other.csv": "age,sex\n50,Male\n"}),  # a trial's data file replaced
    case("evaluate: --json named as a table", *EVALUATE, "--json", "{tmp}/e.csv", flag="--json",
         says="give a file name ending in .json"),
    case("check-data: --json into the base", "check-data", "--data", "{heart}", "--base",
         "{base}", "--json", "{base}/model.json", "--force", flag="--json",
         says="would overwrite model.json in --base"),
    case("train-base: --json is the data", *TRAIN, "--out", "{tmp}/b", "--json", "{heart}",
         "--force", flag="--json", says="would overwrite --data"),
    case("train-base: --json into its own --out", *TRAIN, "--out", "{tmp}/b", "--json",
         "{tmp}/b/model.json", flag="--json", says="is inside --out"),
    case("train-base: --json is --out", *TRAIN, "--out", "{tmp}/b", "--json", "{tmp}/b",
         flag="--json", says="is also the --out directory"),
    case("train-base: --out holds the data", "train-base", "--data", "{tmp}/o/heart.csv",
         "--label", "num", "--out", "{tmp}/o", "--force", flag="--out",
         says="holds --data", existing={"o/heart.csv": "age,num\n50,1\n60,0\n"}),
    case("adapt: --json is the data", *ADAPT, "--out", "{tmp}/a", "--json", "{heart}",
         "--force", flag="--json", says="would overwrite --data"),
    case("adapt: --json into the base", *ADAPT, "--out", "{tmp}/a", "--json",
         "{base}/split.json", "--force", flag="--json",
         says="would overwrite split.json in --base"),
    case("adapt: --report is --out", *ADAPT, "--out", "{tmp}/x.html", "--report",
         "{tmp}/x.html", flag="--report", says="is also the --out directory"),
    case("adapt: --report into its own --out", *ADAPT, "--out", "{tmp}/a", "--report",
         "{tmp}/a/r.html", flag="--report", says="is inside --out"),
    case("adapt: --json and --report one file", *ADAPT, "--out", "{tmp}/a", "--json",
         "{tmp}/r.html", "--report", "{tmp}/r.html", flag="--report",
         says="is also the --json file"),
    case("adapt: --out holds the data", "adapt", "--base", "{base}", "--data",
         "{tmp}/o/heart.csv", "--out", "{tmp}/o", "--force", flag="--out", says="holds --data",
         existing={"o/heart.csv": "age,num\n50,1\n60,0\n"}),
    case("evaluate: --json and --report one file", *EVALUATE, "--json", "{tmp}/r.html",
         "--report", "{tmp}/r.html", flag="--report", says="is also the --json file"),
    case("evaluate: --json is the adapter's file", *EVALUATE, "--json",
         "{adapter}/adapter.json", "--force", flag="--json",
         says="would overwrite adapter.json in --adapter"),
    case("study: --out inside the base", "study", "--data", "{heart}", "--base", "{base}",
         "--label", "num", "--group-column", "dataset", "--group", VA, "--out", "{base}/s",
         flag="--out", says="inside --base"),
    case("federate: --out inside the base", *FEDERATE, "--base", "{base}", "--out",
         "{base}/fed", flag="--out", says="inside --base"),
    case("adapt PACS: --json into its own --out", "adapt", "--base", "{image_base}", "--data",
         "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.3", "--labels", "{tmp}/labels.csv",
         "--out", "{tmp}/a", "--json", "{tmp}/a/r.json", flag="--json", says="is inside --out",
         existing={"labels.csv": "StudyInstanceUID,label\n1.2.3,normal\n"}),
    case("adapt PACS: --out inside the base", "adapt", "--base", "{image_base}", "--data",
         "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.3", "--labels", "{tmp}/labels.csv",
         "--out", "{image_base}/a", flag="--out", says="is inside --base",
         existing={"labels.csv": "StudyInstanceUID,label\n1.2.3,normal\n"}),
    # ----- seeds and non-finite numbers, before any folder is made ----------------------------
    case("train-base: --seed 2**32", *TRAIN, "--seed", "4294967296", "--out", "{tmp}/b",
         flag="--seed", says="must be between 0 and 4294967295"),
    case("adapt: --seed 2**32", *ADAPT, "--seed", "4294967296", "--out", "{tmp}/a",
         flag="--seed", says="must be between 0 and 4294967295"),
    case("federate: --seed 2**32", *FEDERATE, "--base", "{base}", "--seed", "4294967296",
         "--out", "{tmp}/f", flag="--seed", says="must be between 0 and 4294967295"),
    case("demo: --seed 2**32", "demo", "--seed", "4294967296", "--out", "{tmp}/d",
         flag="--seed", says="must be between 0 and 4294967295"),
    case("serve: --max-wait-ms nan", "serve", "--registry", "{registry}", "--max-wait-ms",
         "nan", flag="--max-wait-ms", says="must be a finite number"),
    case("serve: --max-wait-ms inf", "serve", "--registry", "{registry}", "--max-wait-ms",
         "inf", flag="--max-wait-ms", says="must be a finite number"),
    case("serve: --max-image-mb inf", "serve", "--registry", "{registry}", "--max-image-mb",
         "inf", flag="--max-image-mb", says="must be a finite number"),
    case("serve: --max-upload-mb nan", "serve", "--registry", "{registry}", "--max-upload-mb",
         "nan", flag="--max-upload-mb", says="must be a finite number"),
    case("federate: --proximal-mu nan", *FEDERATE, "--base", "{base}", "--strategy", "fedprox",
         "--proximal-mu", "nan", "--out", "{tmp}/f", flag="--proximal-mu",
         says="must be a finite number"),
    case("federate: --lr inf", *FEDERATE, "--base", "{base}", "--lr", "inf", "--out",
         "{tmp}/f", flag="--lr", says="must be a finite number"),
    case("federate: --server-lr inf", *FEDERATE, "--base", "{base}", "--strategy", "fedadam",
         "--server-lr", "inf", "--out", "{tmp}/f", flag="--server-lr",
         says="must be a finite number"),
    case("federate: --dp-noise nan", *FEDERATE, "--base", "{base}", "--dp-clip", "1",
         "--dp-noise", "nan", "--out", "{tmp}/f", flag="--dp-noise",
         says="must be a finite number"),
    case("train-base: --positive-above nan", "train-base", "--data", "{heart}", "--label",
         "num", "--positive-above", "nan", "--out", "{tmp}/b", flag="--positive-above",
         says="must be a finite number"),
    case("images: --lr inf", *TRAIN_IMAGES, "--lr", "inf", "--out", "{tmp}/b", flag="--lr",
         says="must be a finite number"),
    case("images: --normalize nan,1", *TRAIN_IMAGES, "--normalize", "nan,1", "--out",
         "{tmp}/b", flag="--normalize", says="give finite numbers"),
    case("evaluate: --threshold nan", *EVALUATE, "--threshold", "nan", flag="--threshold",
         says="must be a finite number"),
    case("adapt: --test-fraction inf", *ADAPT, "--test-fraction", "inf", "--out", "{tmp}/a",
         flag="--test-fraction", says="must be a finite number"),
    case("registry: gc --min-age inf", *REGISTRY, "gc", "--min-age", "inf", flag="--min-age",
         says="must be a finite number"),
    # ----- federate certificates: hosts a certificate can name --------------------------------
    case("federate certificates: a non-ASCII host", "federate", "certificates", "--out",
         "{tmp}/c", "--host", "krankenhäus.de", flag="--host",
         says="pass --host xn--krankenhus-x5a.de"),
    case("federate certificates: a URL as host", "federate", "certificates", "--out",
         "{tmp}/c", "--host", "https://fl.example.org:9092", flag="--host",
         says="without a scheme, port, path or spaces"),
    case("federate certificates: a host with a space", "federate", "certificates", "--out",
         "{tmp}/c", "--host", "fl example.org", flag="--host", says="bare host name"),
    # ----- found in a trial: each error names the flag that fixes it ---------------------------
    case("images: patch_size 0", "train-base", "--data", "{npz}", "--image-size", "32",
         "--backbone-options", "patch_size=0", "--out", "{tmp}/b", flag="--backbone-options",
         says="patch_size=0 does not divide --image-size 32 into whole patches"),
    case("images: patch_size not dividing the default size", "train-base", "--data", "{npz}",
         "--backbone-options", "patch_size=5", "--out", "{tmp}/b", flag="--image-size",
         says="does not divide --image-size 224 (the default)"),
    case("images: --class-names a name twice", "train-base", "--data", "{npz}",
         "--class-names", "a,a,b", *TINY_IMAGE, "--out", "{tmp}/b", flag="--class-names",
         says="names 'a' twice"),
    case("images: --class-names an empty name", "train-base", "--data", "{npz}",
         "--class-names", "a,,b", *TINY_IMAGE, "--out", "{tmp}/b", flag="--class-names",
         says="name 2 of 3 is empty"),
    case("images adapt: --new-classes a name twice", "adapt", "--base", "{image_base}",
         "--data", "{npz}", "--new-classes", "cavity,cavity", "--out", "{tmp}/a",
         flag="--new-classes", says="names 'cavity' twice"),
    case("images: --weights a table", *TRAIN_IMAGES, "--weights", "{heart}", "--out", "{tmp}/b",
         flag="--weights", says="is not a weights file (its suffix is .csv)"),
    case("images: --weights missing", *TRAIN_IMAGES, "--weights", "{tmp}/w.pt", "--out",
         "{tmp}/b", flag="--weights", says="does not exist"),
    case("train-base: --out name too long", *TRAIN, "--out", "{tmp}/" + "b" * 300,
         flag="--out", says="is 300 bytes long"),
    case("federate certificates: --out name too long", "federate", "certificates", "--out",
         "{tmp}/" + "c" * 300, flag="--out", says="is 300 bytes long"),
    case("train-base: --out under a folder name too long", *TRAIN, "--out",
         "{tmp}/" + "d" * 300 + "/b", flag="--out", says="is 300 bytes long"),
    case("adapt: --out name too long", *ADAPT, "--out", "{tmp}/" + "a" * 300, flag="--out",
         says="is 300 bytes long"),
    case("predict: --out name too long", *PREDICT, "--out", "{tmp}/" + "p" * 296 + ".csv",
         flag="--out", says="is 300 bytes long"),
    case("evaluate: --json name too long", *EVALUATE, "--json", "{tmp}/" + "e" * 295 + ".json",
         flag="--json", says="is 300 bytes long"),
    case("study: --out name too long", *STUDY, "--out", "{tmp}/" + "s" * 300, flag="--out",
         says="is 300 bytes long"),
    case("predict: --out .xlsx", *PREDICT, "--out", "{tmp}/p.xlsx", flag="--out",
         says="p.xlsx: predictions are written as .csv, .tsv or .parquet; name the file so"),
    case("predict: --out .json", *PREDICT, "--out", "{tmp}/p.json", flag="--out",
         says="predictions are written as .csv, .tsv or .parquet"),
    case("predict: --out without a suffix", *PREDICT, "--out", "{tmp}/p", flag="--out",
         says="predictions are written as .csv, .tsv or .parquet"),
    case("predict images: --out .xlsx", "predict", "--base", "{image_base}", "--data", "{npz}",
         "--out", "{tmp}/p.xlsx", flag="--out", says="written as .csv, .tsv or .parquet"),
    case("evaluate: --group-column the base's id column", *EVALUATE, "--group-column", "id",
         "--all-groups", flag="--group-column",
         says="is the base model's patient id column (train-base --id-column)"),
    case("adapt: --group-column the base's id column", "adapt", "--base", "{base}", "--data",
         "{heart}", "--group-column", "id", "--group", "7", "--out", "{tmp}/a",
         flag="--group-column", says="a group per patient says nothing of a site"),
    # ----- a registry's folders hold only what it writes (a trial's predictions went there) ---
    case("predict: --out inside a registry", *PREDICT, "--out", "{registry}/p.csv",
         flag="--out", says="is inside the registry"),
    case("evaluate: --json inside a registry", *EVALUATE, "--json", "{registry}/objects/e.json",
         flag="--json", says="whose folders hold only what the registry writes"),
    case("train-base: --out inside a registry", *TRAIN, "--out", "{registry}/b", flag="--out",
         says="write it outside the registry"),
    case("study: --out inside a registry", *STUDY, "--out", "{registry}/s", flag="--out",
         says="(never patient rows)"),
    case("registry: --root makes a folder at the file system's top", "registry", "--root",
         "/nonexistent-medadapt/dir/reg", "add", "{adapter}", flag="--root",
         says="medadapt makes no folder at the top of the file system"),
    case("registry: add-base at the file system's top", "registry", "--root",
         "/nonexistent-medadapt/dir/reg", "add-base", "{base}", flag="--root",
         says="medadapt makes no folder at the top of the file system"),
    case("demo: --out inside a registry", "demo", "--out", "{registry}/d", flag="--out",
         says="is inside the registry"),
    case("federate certificates: --out inside a registry", "federate", "certificates",
         "--out", "{registry}/c", flag="--out", says="is inside the registry"),
    case("check-data: table base, images", "check-data", "--data", "{npz}", "--base", "{base}",
         flag="--data", says="is a model for tables, but --data"),
    case("check-data: image base, table", "check-data", "--data", "{heart}", "--base",
         "{image_base}", flag="--base", says="is not image data (it reads as a table)"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_server(monkeypatch):
    """A serve case that got past its checks must fail, not listen forever."""
    import medadapt.cli.serve as serve_cli

    def refuse(*args, **kwargs):
        raise AssertionError("the server would have started")

    monkeypatch.setattr(serve_cli, "listen", refuse)


def _argv(template: Case, paths: dict[str, Path], tmp: Path) -> list[str]:
    values = {name: str(path) for name, path in paths.items()} | {"tmp": str(tmp)}
    return [part.format(**values) for part in template.argv]


def refused(bad: Case, workspace, tmp_path: Path) -> CliResult:
    """Run ``bad`` and check the contract: non-zero exit, no traceback, one ``error:`` line
    naming its flag and problem, no workspace file changed, nothing written."""
    root, paths = workspace
    for name, text in bad.existing.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    before, before_tmp = snapshot(root), snapshot(tmp_path)
    result = run_cli(*_argv(bad, paths, tmp_path))
    assert result.code != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert bad.flag in errors[0] and bad.says in errors[0], errors[0]
    assert snapshot(root) == before, "a workspace file changed"
    assert snapshot(tmp_path) == before_tmp, "something was written (or left behind)"
    return result


@pytest.mark.parametrize("bad", CASES)
def test_a_bad_input_is_one_error_line_and_changes_nothing(bad: Case, workspace, tmp_path):
    refused(bad, workspace, tmp_path)


def test_out_that_is_the_base_folder_itself_is_said_to_be_it(workspace, tmp_path):
    """A trial: ``adapt --base base --out base`` said "--out base is inside --base base"."""
    _, paths = workspace
    bad = Case("adapt: --out is the base, no --force", (*ADAPT, "--out", "{base}"),
               flag="--out", says="is the --base folder itself")  # fmt: skip
    errors = [line for line in refused(bad, workspace, tmp_path).stderr.splitlines() if line]
    assert errors == [
        f"error: --out {paths['base']} is the --base folder itself; write outputs somewhere else"
    ]


def test_a_damaged_adapter_split_names_the_adapter(workspace, tmp_path):
    """A ``split.json`` changed after ``adapt`` is refused by ``--adapter``, saying what to do."""
    import shutil

    _, paths = workspace
    shutil.copytree(paths["adapter"], tmp_path / "va")
    with (tmp_path / "va" / "split.json").open("a") as split:
        split.write(" ")
    bad = Case("evaluate: damaged split.json", (*EVALUATE[:3], "--adapter", "{tmp}/va",
               "--data", "{heart}"), flag="--adapter",
               says="its split.json does not match the checksum in adapter.json (changed or "
               "damaged); copy the adapter again or re-run adapt")  # fmt: skip
    refused(bad, workspace, tmp_path)


def test_a_damaged_base_split_names_the_base(workspace, tmp_path):
    """The base's ``split.json`` (the hashes of the rows it trained on) changed after
    ``train-base`` is refused by ``--base``, before anything is scored."""
    import shutil

    _, paths = workspace
    shutil.copytree(paths["base"], tmp_path / "base")
    split = tmp_path / "base" / "split.json"
    split.write_bytes(split.read_bytes() + b" ")
    says = ("its split.json does not match the checksum in model.json (changed or damaged);"
            " copy the model again or re-run train-base")  # fmt: skip
    bad = Case("evaluate: base split.json changed", ("evaluate", "--base", "{tmp}/base",
               "--data", "{heart}"), flag="--base", says=says)  # fmt: skip
    refused(bad, workspace, tmp_path)


def test_a_base_without_its_split_scores_its_own_file_by_its_positions(workspace, tmp_path):
    """A base copied without ``split.json`` (as a registry or an archive holds it) is no
    longer refused: on the very file it trained on, the positions in its ``model.json``
    leave its rows out, and nothing is warned; another file is warned of
    (``tests/serve/test_received_version.py``)."""
    import json
    import shutil

    from tests.cli.helpers import succeeded

    _, paths = workspace
    shutil.copytree(paths["base"], tmp_path / "base")
    (tmp_path / "base" / "split.json").unlink()
    with_split = succeeded(run_cli("evaluate", "--base", paths["base"], "--data",
                                   paths["heart"], "--json", tmp_path / "a.json"))  # fmt: skip
    without = succeeded(run_cli("evaluate", "--base", tmp_path / "base", "--data",
                                paths["heart"], "--json", tmp_path / "b.json"))  # fmt: skip
    assert "split.json" not in without.stdout + without.stderr
    scored = [json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json")]
    assert scored[0]["n"] == scored[1]["n"] and scored[0]["rows_used"] == scored[1]["rows_used"]
    assert with_split.stdout.count("warning:") == without.stdout.count("warning:")


def test_a_model_fine_tuned_from_a_base_without_its_split_says_so_ever_after(workspace,
                                                                            tmp_path):  # fmt: skip
    """A review: ``adapt --method full`` from a base copied without ``split.json`` wrote a
    ``split.json`` of the adaptation's rows alone, and a later ``evaluate`` of the base's own
    training rows, re-saved, scored all of them without a word."""
    import json
    import shutil

    import pandas as pd

    from tests.cli.helpers import succeeded

    _, paths = workspace
    shutil.copytree(paths["base"], tmp_path / "base")
    (tmp_path / "base" / "split.json").unlink()
    succeeded(run_cli("adapt", "--base", tmp_path / "base", "--data", paths["heart"],
                      "--group-column", "dataset", "--group", VA, "--method", "full",
                      "--out", tmp_path / "full"))  # fmt: skip
    assert json.loads((tmp_path / "full" / "split.json").read_text())["base_rows_unknown"]
    trained = json.loads((paths["base"] / "model.json").read_text())["training"]["split"]
    resaved = tmp_path / "rows.csv"  # other bytes: no positions tell them
    pd.read_csv(paths["heart"]).iloc[trained["train_positions"]].to_csv(resaved, index=False)
    said = succeeded(run_cli("evaluate", "--base", tmp_path / "full", "--data", resaved))
    assert "warning: the split.json of the base model (which rows trained it, as hashes) is " in (
        " ".join(said.stdout.split())
    )


def test_there_are_at_least_150_cases():
    from tests.cli.test_http_bad_inputs import HTTP_CASES

    assert len(CASES) + len(HTTP_CASES) >= 150


IN_A_REAL_PROCESS = (
    "train-base: UTF-16", "usage: --port abc", "images: npz with NaN", "registry: --notes missing",
    *(pytest.param(name, marks=pytest.mark.slow)  # a process each, 6-14 s: make test-slow
      for name in ("images: fake npz", "adapt: broken base")),
)  # fmt: skip


@pytest.mark.parametrize("name", IN_A_REAL_PROCESS)
def test_a_real_process_prints_exactly_one_line(name, workspace, tmp_path):
    """The same cases as a user runs them: everything on stderr is the one error line (no
    log record, no library warning, no traceback)."""
    import subprocess
    import sys

    (bad,) = [p.values[0] for p in CASES if p.values[0].id == name]
    _, paths = workspace
    for file, text in bad.existing.items():
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text(text)
    argv = [sys.executable, "-m", "medadapt.cli", *_argv(bad, paths, tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and bad.flag in line and bad.says in line


def test_a_huge_log_limit_shows_every_event(workspace):
    """``--limit`` past what SQLite takes means every event (it was an OverflowError)."""
    from tests.cli.helpers import succeeded

    _, paths = workspace
    result = succeeded(run_cli(*REGISTRY[:2], str(paths["registry"]), "log", "--limit",
                               "99999999999999999999"))  # fmt: skip
    assert "promote" in result.stdout


def test_group_alone_takes_the_group_column_the_base_records(workspace):
    """A trial was asked for ``--group-column`` by ``adapt``, ``check-data`` and ``evaluate``
    although the base records it: ``--group`` alone takes the base's, said in a note, with the
    same figures as naming it."""
    _, paths = workspace
    base, heart, adapter = str(paths["base"]), str(paths["heart"]), str(paths["adapter"])
    note = "note: --group-column dataset, the base model's (train-base --group-column)"
    for verb in (
        ("check-data", "--base", base),
        ("evaluate", "--base", base, "--adapter", adapter),
    ):
        alone = run_cli(*verb, "--data", heart, "--group", VA)
        named = run_cli(*verb, "--data", heart, "--group-column", "dataset", "--group", VA)
        assert alone.code == named.code == 0, alone.stderr
        assert alone.stdout.splitlines()[0] == note
        assert alone.stdout.splitlines()[1:] == named.stdout.splitlines()
        # refused: the one error line alone, without the note held for the work (a trial's
        # "note: --group-column ..." stood before the error: two lines for one refusal)
        refused = run_cli(*verb, "--data", heart, "--group", VA.lower())
        assert refused.code == 2 and refused.stdout == "", refused.stdout
        assert refused.stderr.strip().splitlines() == [
            f"error: --group: group {VA.lower()!r} not found in column 'dataset'; did you mean "
            f"{VA!r}? (it has: Cleveland, Hungary, Switzerland, VA Long Beach)"
        ]
    # the base's column absent from the file: the one error line says whose it is (a review:
    # "--group-column 'dataset' is not in the table", a flag the user never typed)
    renamed = paths["heart"].parent / "renamed.csv"
    pd.read_csv(heart).rename(columns={"dataset": "site"}).to_csv(renamed, index=False)
    refused = run_cli("check-data", "--base", base, "--data", renamed, "--group", VA)
    assert refused.code == 2 and refused.stdout == "", refused.stdout
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: --group-column 'dataset' is not in the table (columns: ")
    assert line.endswith(
        f"; column 'site' holds '{VA}'; pass --group-column site; {note.removeprefix('note: ')}"
    ), line


def test_groups_of_another_column_name_the_column_that_holds_them(workspace, tmp_path):
    """A trial's ``--group-column sex`` for its hospitals was told the values of 'sex' only."""
    from tests.cli.helpers import error_line

    _, paths = workspace
    said = error_line(run_cli("adapt", "--base", paths["base"], "--data", paths["heart"],
                              "--group-column", "sex", "--group", VA, "--method", "head",
                              "--out", tmp_path / "a"))  # fmt: skip
    assert said.startswith(f"error: --group: group '{VA}' not found in column 'sex' (it has:")
    assert said.endswith(f"(column 'dataset' holds '{VA}'; pass --group-column dataset)")
    assert not (tmp_path / "a").exists()
    # a --group-column the table lacks: the column that holds the group is named (a trial's
    # --group-column site was told to add a column 'site', its hospital column holding it)
    said = error_line(run_cli("adapt", "--base", paths["base"], "--data", paths["heart"],
                              "--group-column", "site", "--group", VA, "--method", "head",
                              "--out", tmp_path / "a"))  # fmt: skip
    assert said.startswith("error: --group-column 'site' is not in the table (columns: ")
    assert said.endswith(f"; column 'dataset' holds '{VA}'; pass --group-column dataset")
    assert not (tmp_path / "a").exists()
