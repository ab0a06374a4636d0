"""The fake Excel behaves like Excel where the pane could go wrong: if it did not, the pane tests would
pass against behaviour no real workbook has."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.pane_fixtures"]


@pytest.fixture
def page(pane_page, live_server):
    pane_page.goto(f"{live_server}/addin/help.html")  # any page: the fake is injected into every one
    pane_page.evaluate("() => __fake.set('Sheet1!A1', [['Month', 'Sales'], [45292, 10], [45323, '#N/A']])")
    return pane_page


def run(page, body: str):
    """Run `body` inside Excel.run(async (context) => …) and return its result, or the error's code."""
    return page.evaluate(
        f"""async () => {{
            try {{ return await Excel.run(async (context) => {{ {body} }}); }}
            catch (e) {{ return {{code: e.code, message: e.message}}; }}
        }}"""
    )


def test_a_property_is_readable_only_after_load_and_sync(page):
    result = run(
        page,
        """
        const range = context.workbook.worksheets.getItem('Sheet1').getRange('A1:B3');
        const codes = [];
        try { range.values; } catch (e) { codes.push(e.code); }
        range.load('values');
        try { range.values; } catch (e) { codes.push(e.code); }  // loaded but not synced yet
        await context.sync();
        return {codes, values: range.values};
        """,
    )
    assert result == {
        "codes": ["PropertyNotLoaded", "PropertyNotLoaded"],
        "values": [["Month", "Sales"], [45292, 10], [45323, "#N/A"]],
    }


def test_a_shape_mismatch_rejects_at_sync_and_stops_the_batch_there(page):
    result = run(
        page,
        """
        const sheet = context.workbook.worksheets.getItem('Sheet1');
        sheet.getRange('D1').values = [['before']];
        sheet.getRange('E1:F2').values = [[1, 2, 3]];  // 1x3 into 2x2: accepted now, rejected at sync
        sheet.getRange('G1').values = [['after']];
        return 'no error';
        """,
    )
    assert result["code"] == "InvalidArgument"
    assert page.evaluate("() => __fake.values('Sheet1!D1:G1')") == [["before", "", "", ""]]


def test_addresses_offsets_and_resizes_follow_excel(page):
    page.evaluate("() => __fake.addSheet('My data')")
    result = run(
        page,
        """
        const sheet = context.workbook.worksheets.getItem('my DATA');  // names are case-blind
        const base = sheet.getRange('$B$2:C4');
        const ranges = [base, base.getCell(1, 1), base.getOffsetRange(2, 3), base.getResizedRange(1, -1),
                        sheet.getRange("'My data'!A:A").getCell(0, 0)];
        ranges.forEach((r) => r.load('address'));
        await context.sync();
        return ranges.map((r) => r.address);
        """,
    )
    assert result == ["'My data'!B2:C4", "'My data'!C3", "'My data'!E4:F6", "'My data'!B2:B5", "'My data'!A1"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("context.workbook.worksheets.getItem('Nope').getRange('A1').load('address')", "ItemNotFound"),
        ("context.workbook.worksheets.add('sheet1')", "ItemAlreadyExists"),
        (
            "context.workbook.worksheets.getItem('Sheet1').getRange('A1').getOffsetRange(-1, 0).load('address')",
            "InvalidArgument",
        ),
        ("context.workbook.worksheets.getItem('Sheet1').getRange('Other!A1').load('address')", "InvalidArgument"),
        ("context.workbook.worksheets.getItem('Sheet1').getRange('A1').load('nonsense')", "InvalidArgument"),
    ],
)
def test_bad_calls_fail_at_sync_with_excels_codes(page, body, code):
    assert run(page, body + "; await context.sync();")["code"] == code


def test_fills_number_formats_and_charts(page):
    result = run(
        page,
        """
        const sheet = context.workbook.worksheets.getItem('Sheet1');
        const plain = sheet.getRange('A1').format.fill;
        plain.load('color,pattern');
        sheet.getRange('B2').format.fill.color = '#ffc7ce';
        sheet.getRange('B2:B3').numberFormat = [['0.0'], ['0.0']];
        const mixed = sheet.getRange('B2:B3').format.fill;
        mixed.load('color');
        const chart = sheet.charts.add('Line', sheet.getRange('B1:B3'), 'Columns');
        chart.axes.categoryAxis.setCategoryNames(sheet.getRange('A2:A3'));
        await context.sync();
        return {plain: [plain.color, plain.pattern], mixed: mixed.color};
        """,
    )
    assert result == {"plain": ["#FFFFFF", "None"], "mixed": None}
    assert page.evaluate("() => __fake.fills('Sheet1!B1:B3')") == [[None], ["#FFC7CE"], [None]]
    assert page.evaluate("() => __fake.formats('Sheet1!B2:B3')") == [["0.0"], ["0.0"]]
    [chart] = page.evaluate("() => __fake.charts('Sheet1')")
    assert (chart["source"], chart["series"], chart["categories"]) == ("Sheet1!B1:B3", ["Sales"], "Sheet1!A2:A3")
