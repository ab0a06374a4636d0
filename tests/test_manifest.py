"""The add-in manifest: well-formed, complete, and pointing at files the server really serves."""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from chronos_excel.manifest import render_manifest

ROOT = Path(__file__).resolve().parents[1]
ADDIN = ROOT / "addin"
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode())


def all_urls(doc: etree._Element) -> list[str]:
    """Every URL the manifest names: DefaultValue attributes that are URLs, and AppDomains."""
    urls = [v for v in doc.xpath("//@DefaultValue") if v.startswith(("http://", "https://"))]
    return urls + [e.text for e in doc.iterfind(".//o:AppDomain", NS)]


def test_root_manifest_is_the_default_rendering():
    assert (ROOT / "manifest.xml").read_text(encoding="utf-8") == render_manifest()


def test_manifest_is_a_workbook_task_pane_with_read_write_access():
    doc = parse(render_manifest())
    assert doc.tag == f"{{{NS['o']}}}OfficeApp"
    assert doc.get(XSI_TYPE) == "TaskPaneApp"
    for element in ("Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description"):
        assert doc.find(f"o:{element}", NS) is not None, element
    assert [h.get("Name") for h in doc.iterfind("o:Hosts/o:Host", NS)] == ["Workbook"]
    assert doc.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
    assert doc.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == (
        "https://localhost:8000/addin/taskpane.html"
    )
    (excel_api,) = doc.iterfind("o:Requirements/o:Sets/o:Set", NS)
    assert excel_api.get("Name") == "ExcelApi"
    # The pane calls categoryAxis.setCategoryNames (ExcelApi 1.7) and nothing newer unconditionally.
    assert excel_api.get("MinVersion") == "1.7"


def test_ribbon_button_on_the_data_tab_opens_the_pane():
    doc = parse(render_manifest())
    (host,) = doc.iterfind(".//ov:Hosts/ov:Host", NS)
    assert host.get(XSI_TYPE) == "Workbook"
    tab = host.find(".//ov:ExtensionPoint[@xsi:type='PrimaryCommandSurface']/ov:OfficeTab", NS)
    assert tab.get("id") == "TabData"
    group = tab.find("ov:Group", NS)
    strings = {e.get("id"): e.get("DefaultValue") for e in doc.iterfind(".//bt:String", NS)}
    assert strings[group.find("ov:Label", NS).get("resid")] == "Chronos"
    action = group.find("ov:Control/ov:Action", NS)
    assert action.get(XSI_TYPE) == "ShowTaskpane"
    urls = {e.get("id"): e.get("DefaultValue") for e in doc.iterfind(".//bt:Url", NS)}
    assert urls[action.find("ov:SourceLocation", NS).get("resid")] == "https://localhost:8000/addin/taskpane.html"
    sizes = sorted(int(i.get("size")) for i in group.find("ov:Icon", NS))
    assert sizes == [16, 32, 80]


def test_every_resid_is_defined():
    doc = parse(render_manifest())
    defined = {e.get("id") for e in doc.iterfind(".//bt:Image", NS)}
    defined |= {e.get("id") for e in doc.iterfind(".//bt:Url", NS)}
    defined |= {e.get("id") for e in doc.iterfind(".//bt:String", NS)}
    used = {e.get("resid") for e in doc.iter() if e.get("resid")}
    assert used, "the manifest uses no resources"
    assert used <= defined, f"undefined resid: {sorted(used - defined)}"


@pytest.mark.parametrize(
    ("base_url", "expected_root"),
    [
        ("https://localhost:8000", "https://localhost:8000"),  # the default dev server
        ("https://excel.example.com:8443/", "https://excel.example.com:8443"),  # trailing slash dropped
        ("https://example.com/chronos", "https://example.com/chronos"),  # served under a path prefix
    ],
)
def test_urls_point_at_files_the_addin_route_serves(base_url, expected_root):
    doc = parse(render_manifest(base_url))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(expected_root))
    for url in all_urls(doc):
        if url == origin:  # the AppDomain
            continue
        assert url.startswith(f"{expected_root}/addin/"), url
        served = ADDIN / url.removeprefix(f"{expected_root}/addin/")
        assert served.is_file(), f"{url} names {served}, which does not exist"


@pytest.mark.parametrize("size", [16, 32, 64, 80])
def test_icons_are_pngs_of_their_size(size):
    data = (ADDIN / "assets" / f"icon-{size}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (size, size)


def test_manifest_names_every_icon_size():
    doc = parse(render_manifest())
    urls = all_urls(doc)
    for size in (16, 32, 64, 80):
        assert f"https://localhost:8000/addin/assets/icon-{size}.png" in urls


@pytest.mark.parametrize("bad", ["localhost:8000", "ftp://host", "https://", ""])
def test_bad_base_url_is_refused(bad):
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL"):
        render_manifest(bad)


def test_custom_functions_extension_point_names_the_functions_files():
    doc = parse(render_manifest())
    (point,) = doc.iterfind(".//ov:Host/ov:AllFormFactors/ov:ExtensionPoint", NS)
    assert point.get(XSI_TYPE) == "CustomFunctions"
    urls = {e.get("id"): e.get("DefaultValue") for e in doc.iterfind(".//bt:Url", NS)}
    strings = {e.get("id"): e.get("DefaultValue") for e in doc.iterfind(".//bt:String", NS)}
    found = {
        part: urls[point.find(f"ov:{part}/ov:SourceLocation", NS).get("resid")]
        for part in ("Script", "Page", "Metadata")
    }
    assert found == {
        "Script": "https://localhost:8000/addin/functions.js",
        "Page": "https://localhost:8000/addin/functions.html",
        "Metadata": "https://localhost:8000/addin/functions.json",
    }
    assert strings[point.find("ov:Namespace", NS).get("resid")] == "CHRONOS"
