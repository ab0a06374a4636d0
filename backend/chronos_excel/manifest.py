"""The Office add-in manifest for a Chronos server: a pure function of the server's base URL."""

from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

DEFAULT_BASE_URL = "https://localhost:8000"
ADDIN_ID = "6f0b7f3e-4c1a-4f7e-9b8e-2d3c5a1e9c42"
VERSION = "0.1.0.0"
# Highest API the pane calls unconditionally: chart.axes.categoryAxis.setCategoryNames (ExcelApi 1.7).
# RangeFill.pattern (1.9) is only used when Office reports it supported.
EXCEL_API_MIN_VERSION = "1.7"
# The worksheet functions' prefix: =CHRONOS.FORECAST(...), declared in addin/functions.json.
FUNCTIONS_NAMESPACE = "CHRONOS"

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
  xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
  xsi:type="TaskPaneApp">
  <Id>{addin_id}</Id>
  <Version>{version}</Version>
  <ProviderName>Chronos for Excel</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="Chronos for Excel"/>
  <Description DefaultValue="Forecasts, anomaly detection and backtests with Amazon Chronos-2, \
written straight into your workbook."/>
  <IconUrl DefaultValue={icon32}/>
  <HighResolutionIconUrl DefaultValue={icon64}/>
  <SupportUrl DefaultValue={help}/>
  <AppDomains>
    <AppDomain>{origin}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Workbook"/>
  </Hosts>
  <Requirements>
    <Sets DefaultMinVersion="1.1">
      <Set Name="ExcelApi" MinVersion="{excel_api}"/>
    </Sets>
  </Requirements>
  <DefaultSettings>
    <SourceLocation DefaultValue={taskpane}/>
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides" \
xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <AllFormFactors>
          <ExtensionPoint xsi:type="CustomFunctions">
            <Script>
              <SourceLocation resid="Functions.Script.Url"/>
            </Script>
            <Page>
              <SourceLocation resid="Functions.Page.Url"/>
            </Page>
            <Metadata>
              <SourceLocation resid="Functions.Metadata.Url"/>
            </Metadata>
            <Namespace resid="Functions.Namespace"/>
          </ExtensionPoint>
        </AllFormFactors>
        <DesktopFormFactor>
          <GetStarted>
            <Title resid="GetStarted.Title"/>
            <Description resid="GetStarted.Description"/>
            <LearnMoreUrl resid="Help.Url"/>
          </GetStarted>
          <FunctionFile resid="Commands.Url"/>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <OfficeTab id="TabData">
              <Group id="Chronos.Group">
                <Label resid="Chronos.Group.Label"/>
                <Icon>
                  <bt:Image size="16" resid="Icon.16"/>
                  <bt:Image size="32" resid="Icon.32"/>
                  <bt:Image size="80" resid="Icon.80"/>
                </Icon>
                <Control xsi:type="Button" id="Chronos.OpenPane">
                  <Label resid="Chronos.OpenPane.Label"/>
                  <Supertip>
                    <Title resid="Chronos.OpenPane.Label"/>
                    <Description resid="Chronos.OpenPane.Tooltip"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16"/>
                    <bt:Image size="32" resid="Icon.32"/>
                    <bt:Image size="80" resid="Icon.80"/>
                  </Icon>
                  <Action xsi:type="ShowTaskpane">
                    <TaskpaneId>Chronos.Taskpane</TaskpaneId>
                    <SourceLocation resid="Taskpane.Url"/>
                  </Action>
                </Control>
              </Group>
            </OfficeTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Icon.16" DefaultValue={icon16}/>
        <bt:Image id="Icon.32" DefaultValue={icon32}/>
        <bt:Image id="Icon.80" DefaultValue={icon80}/>
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Taskpane.Url" DefaultValue={taskpane}/>
        <bt:Url id="Commands.Url" DefaultValue={commands}/>
        <bt:Url id="Help.Url" DefaultValue={help}/>
        <bt:Url id="Functions.Script.Url" DefaultValue={functions_js}/>
        <bt:Url id="Functions.Page.Url" DefaultValue={functions_html}/>
        <bt:Url id="Functions.Metadata.Url" DefaultValue={functions_json}/>
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="GetStarted.Title" DefaultValue="Forecast with Chronos"/>
        <bt:String id="Functions.Namespace" DefaultValue="{namespace}"/>
        <bt:String id="Chronos.Group.Label" DefaultValue="Chronos"/>
        <bt:String id="Chronos.OpenPane.Label" DefaultValue="Chronos Forecast"/>
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="GetStarted.Description" DefaultValue="Chronos is on the Data tab. Select a \
timeline and its values, then click Forecast."/>
        <bt:String id="Chronos.OpenPane.Tooltip" DefaultValue="Open the Chronos pane: forecasts with \
intervals, anomaly detection and backtests for the selected data."/>
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""


def render_manifest(base_url: str = DEFAULT_BASE_URL) -> str:
    """Return the add-in manifest XML whose pages and icons live under ``<base_url>/addin/``.

    ``base_url`` is the server's origin, e.g. ``https://localhost:8000`` (a trailing slash is ignored).
    Raises ``ValueError`` when it is not an http(s) URL with a host.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as https://localhost:8000, found {base_url!r}")
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    def url(path: str) -> str:
        return quoteattr(f"{root}/addin/{path}")

    return TEMPLATE.format(
        addin_id=ADDIN_ID,
        version=VERSION,
        excel_api=EXCEL_API_MIN_VERSION,
        origin=f"{parts.scheme}://{parts.netloc}",
        taskpane=url("taskpane.html"),
        commands=url("commands.html"),
        help=url("help.html"),
        namespace=FUNCTIONS_NAMESPACE,
        functions_js=url("functions.js"),
        functions_html=url("functions.html"),
        functions_json=url("functions.json"),
        icon16=url("assets/icon-16.png"),
        icon32=url("assets/icon-32.png"),
        icon64=url("assets/icon-64.png"),
        icon80=url("assets/icon-80.png"),
    )
