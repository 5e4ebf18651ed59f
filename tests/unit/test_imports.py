"""Reading CSV exports for bulk imports: what is accepted, and how a bad file is reported."""

from __future__ import annotations

import pytest

from shared.errors import RuleViolation
from shared.imports import ImportRejected, ImportResult, RowProblem, read_table


def test_a_comma_separated_export_with_a_bom_is_read_with_spreadsheet_row_numbers() -> None:
    table = read_table("\ufeffname, email \nAnna, a@x.fi\n\n Bert ,b@x.fi\n")
    assert table.columns == ("name", "email")
    assert table.numbered() == [
        (2, {"name": "Anna", "email": "a@x.fi"}),
        (4, {"name": "Bert", "email": "b@x.fi"}),  # row 3 was blank
    ]


def test_a_semicolon_separated_export_with_quoted_cells_is_read() -> None:
    table = read_table('name;comment\n"Aalto; Anna";"said ""hi""\nthen left"\n')
    assert table.rows == [{"name": "Aalto; Anna", "comment": 'said "hi"\nthen left'}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("name,email\n", "no data rows"),
        ("name,name\nA,B\n", "repeat"),
        (",\nA,B\n", "name the columns"),
        ("name\x00,email\nA,B\n", "control character"),
    ],
    ids=["empty", "blank", "header-only", "repeated-column", "no-header", "binary"],
)
def test_a_file_that_is_not_a_table_is_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        read_table(text)
    assert isinstance(refused.value, RuleViolation)  # 422
    assert [p.row for p in refused.value.result.problems] == [0]
    assert message in refused.value.result.problems[0].message


def test_missing_required_columns_are_named() -> None:
    with pytest.raises(ImportRejected) as refused:
        read_table("name\nA\n", required=("name", "email", "unit"))
    assert "email, unit" in refused.value.result.problems[0].message
    assert refused.value.message == "nothing was imported: missing columns: email, unit"


def test_rows_with_the_wrong_number_of_cells_are_each_reported() -> None:
    with pytest.raises(ImportRejected) as refused:
        read_table("a,b\n1,2\n1\n1,2,3\n")
    assert [(p.row, p.column) for p in refused.value.result.problems] == [(3, None), (4, None)]
    assert refused.value.errors == [
        {"location": "csv", "field": "row 3", "message": "1 cells, but the header has 2"},
        {"location": "csv", "field": "row 4", "message": "3 cells, but the header has 2"},
    ]


def test_a_rejection_counts_problems_and_rows_and_names_each_cell() -> None:
    result = ImportResult(
        rows=5,
        problems=[RowProblem(2, "email", "not an address"), RowProblem(2, "unit", "missing")],
    )
    rejected = ImportRejected(result)
    assert rejected.message == "nothing was imported: 2 problems in 1 row"
    assert rejected.errors is not None
    assert rejected.errors[0]["field"] == "row 2: email"
    assert result.as_dict()["problems"][1] == {"row": 2, "column": "unit", "message": "missing"}
