"""Pydantic models: the single source of truth for request validation and the OpenAPI document.

Requests are validated with ``Model.model_validate(body, context=limits)`` where ``limits`` carries the
configured ``max_series``, ``max_horizon``, ``max_covariates``, ``max_quantiles`` and
``max_response_numbers``. Response models document the answers; routes build plain
dicts on the hot path and the tests check those dicts against these models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import BeforeValidator

LIMITS = {
    "max_series": 1000,
    "max_horizon": 1024,
    "max_covariates": 50,
    "max_quantiles": 99,
    "max_response_numbers": 5_000_000,
    "train_max_steps": 2000,
    "train_max_points": 200_000,
}
"""Defaults of the configurable limits (the app's MAX_* settings)."""
LARGEST_VALUE = 1e300


def limit(info: ValidationInfo, name: str) -> int:
    """The configured limit ``name`` (from the validation context), else its default."""
    return (info.context or {}).get(name, LIMITS[name])


def _integral(value: object) -> object:
    """JSON has one number type: 2.0 is the integer 2 (2.5, "2" and true are still not integers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Integer = Annotated[int, BeforeValidator(_integral), Field(strict=True)]
PositiveInteger = Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=1)]

# What the OpenAPI document says of timestamps and frequencies. Validation is done in ``timeaxis`` (with
# messages that locate the point); these patterns describe the same inputs to generators and readers.
_YEAR = r"(1(6[89]\d|[7-9]\d\d)|2([01]\d\d|2[0-5]\d|26[01]))"  # 1680 .. 2261
ISO_PATTERN = (
    rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?$"
)
_MONTHS = "(-(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?"
FREQUENCY_PATTERN = (
    r"^(([1-9]\d{0,6})?s|([1-9]\d{0,5})?min|([1-9]\d{0,4})?h|([1-9]\d{0,3})?[DB]"
    r"|([1-9]\d{0,2})?W(-(MON|TUE|WED|THU|FRI|SAT|SUN))?|([1-9]\d{0,2})?(MS|ME)"
    rf"|([1-9]\d?)?(QS|QE){_MONTHS}|([1-9]\d?)?(YS|YE){_MONTHS})$"
)
EXCEL_SERIAL_SCHEMA = {"minimum": 1, "maximum": 132320.99, "not": {"minimum": 60, "exclusiveMaximum": 61}}
TimestampIn = Annotated[
    Annotated[StrictStr, Field(json_schema_extra={"pattern": ISO_PATTERN})]
    | Annotated[float, Field(strict=True, allow_inf_nan=False, json_schema_extra=EXCEL_SERIAL_SCHEMA)],
    Field(
        description=(
            "An ISO-8601 date or date-time (1677-09-22 to 2262-04-11), or an Excel serial date number "
            "(1 = 1900-01-01; 60, Excel's 29 February 1900, does not exist)."
        )
    ),
]
FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Value = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-LARGEST_VALUE, le=LARGEST_VALUE)]
Timestamp = Annotated[
    StrictStr | FiniteNumber,
    Field(description="An ISO-8601 date or date-time, or an Excel serial date number (days since 1899-12-30)."),
]
QuantileLevel = Annotated[float, Field(strict=True, gt=0, lt=1)]
CovariateName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
CovariateValue = Value | StrictBool | StrictStr | None
AdapterName = Annotated[
    StrictStr,
    StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$"),
    Field(description="1 to 64 letters, digits, '_', '.' or '-'.", examples=["sales-2024"]),
]
ADAPTER = (
    "The name of one of your adapters (POST /api/v1/adapters): the model runs with its LoRA weights. "
    "Omit for the base model."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Series(Strict):
    """One time series: its values, optionally its timestamps and a name."""

    name: str | None = Field(None, max_length=255, description='Defaults to "Series 1", "Series 2", …')
    values: list[Value | None] = Field(
        min_length=1,
        description="Numbers within ±1e300, at least one; null marks a missing value.",
        json_schema_extra={"contains": {"type": "number"}},
    )
    timestamps: list[TimestampIn] | None = Field(
        None, description="One per value, all ISO strings or all Excel serial numbers."
    )
    covariates: dict[CovariateName, list[CovariateValue]] | None = Field(
        None,
        description=(
            "Drivers of this series, name -> array (at most max_covariates, default 50). An array as long as "
            "`values` is past-only (observed in the history); in a forecast, one of length len(values) + horizon "
            "is known in the future (its last `horizon` entries). Numbers and nulls make a numeric covariate, "
            "booleans count as 1/0, any string makes it categorical (numbers in it are read as their text; "
            "null is missing). Nulls in the future part mean unknown at that step."
        ),
    )

    @field_validator("covariates")
    @classmethod
    def _at_most_max_covariates(cls, covariates: dict | None, info: ValidationInfo) -> dict | None:
        most = limit(info, "max_covariates")
        if covariates is not None and len(covariates) > most:
            raise ValueError(f"at most {most} covariates per series, got {len(covariates)}")
        return covariates


class SeriesRequest(Strict):
    """Fields shared by every endpoint that takes series."""

    series: list[Series] = Field(min_length=1, description="1 to max_series (default 1000) series.")
    frequency: Annotated[str, Field(json_schema_extra={"pattern": FREQUENCY_PATTERN})] | None = Field(
        None, description="A pandas offset alias (e.g. 'D', 'B', 'W-SUN', 'MS', 'ME', 'h'); inferred when omitted."
    )
    start: TimestampIn | None = Field(
        None, description="Timeline start for series without timestamps (needs `frequency`)."
    )
    fill_missing: bool = Field(False, description="Insert missing timeline steps as nulls instead of failing.")
    aggregate: Literal["mean", "sum", "min", "max", "median", "last"] | None = Field(
        None, description="Combine values that share a timestamp instead of failing."
    )

    @field_validator("series")
    @classmethod
    def _at_most_max_series(cls, series: list[Series], info: ValidationInfo) -> list[Series]:
        most = limit(info, "max_series")
        if len(series) > most:
            raise ValueError(f"at most {most} series per request, got {len(series)}")
        return series


JOINT = (
    "Forecast all series of the request together as one multivariate group: each sees the others' history. "
    "They must share one timeline (same timestamps, or the same length without them) and, with covariates, "
    "carry the same covariates (names and values)."
)
CROSS_LEARNING = (
    "Passed to Chronos-2: every series of a model batch (up to the server's batch size) attends to the others. "
    "It does not always help, and results then depend on which series share the request. In a backtest only "
    "the same window of different series share information (never a later window of the same series)."
)
FUTURE_COVARIATES = (
    "Names of covariates known in advance (planned prices, promotions, holidays): their values over each "
    "forecast window (the points being scored or tested) go to the model. The others are past-only."
)


CALIBRATE = (
    "Calibrate the bands on the series' own history: past windows of the same horizon (up to "
    "CHRONOS_CALIBRATION_WINDOWS, default 4) are forecast as a backtest would, and each central band is stretched or "
    "shrunk about the median until it held its level there (split conformal). The median never moves; each "
    "forecast says what was done in `calibration`."
)


def _check_horizon(horizon: int, info: ValidationInfo) -> int:
    most = limit(info, "max_horizon")
    if horizon > most:
        raise ValueError(f"horizon must be at most {most}, got {horizon}")
    return horizon


def _check_levels(levels: list[float], info: ValidationInfo) -> list[float]:
    most = limit(info, "max_quantiles")
    if len(levels) > most:
        raise ValueError(f"at most {most} quantile levels, got {len(levels)}")
    repeated = sorted({q for q in levels if levels.count(q) > 1})
    if repeated:
        raise ValueError(f"quantile levels must be distinct, got {', '.join(str(q) for q in repeated)} more than once")
    return levels


def _check_answer_size(numbers: int, formula: str, info: ValidationInfo) -> None:
    most = limit(info, "max_response_numbers")
    if numbers > most:
        raise ValueError(
            f"the answer would hold {numbers:,} numbers ({formula}); at most {most:,}: "
            "ask for fewer series, a shorter horizon or fewer quantile levels"
        )


class ForecastRequest(SeriesRequest):
    """``POST /api/v1/forecast``."""

    horizon: Integer = Field(ge=1, description="Steps to forecast, 1 to max_horizon (default 1024).")
    quantile_levels: list[QuantileLevel] = Field(
        default=[0.1, 0.5, 0.9], min_length=1, description="Distinct levels in (0, 1), at most max_quantiles (99)."
    )
    joint: bool = Field(False, strict=True, description=JOINT)
    cross_learning: bool = Field(False, strict=True, description=CROSS_LEARNING)
    adapter: AdapterName | None = Field(None, description=ADAPTER)
    calibrate: bool = Field(False, strict=True, description=CALIBRATE)

    _horizon_limit = field_validator("horizon")(_check_horizon)
    _levels_limit = field_validator("quantile_levels")(_check_levels)

    @model_validator(mode="after")
    def _answer_size(self, info: ValidationInfo) -> ForecastRequest:
        numbers = len(self.series) * self.horizon * (len(self.quantile_levels) + 1)
        _check_answer_size(numbers, "series × horizon × (quantile levels + 1)", info)
        return self


class AnomaliesRequest(SeriesRequest):
    """``POST /api/v1/anomalies``."""

    future_covariates: list[StrictStr] = Field(default=[], description=FUTURE_COVARIATES)

    level: float = Field(0.95, strict=True, gt=0, le=0.98, description="Central interval coverage of the band.")
    min_context: Integer = Field(32, ge=1, description="Points before the first scored one (nulls count).")
    last: PositiveInteger | None = Field(None, description="Score only the last N points.")
    adapter: AdapterName | None = Field(None, description=ADAPTER)


class BacktestRequest(SeriesRequest):
    """``POST /api/v1/backtest``."""

    horizon: Integer = Field(ge=1, description="Steps each window forecasts, 1 to max_horizon (default 1024).")
    windows: Integer = Field(3, ge=1, le=100, description="Rolling windows; the last ends at the last point.")
    step: PositiveInteger | None = Field(None, description="Points between window cutoffs; default horizon.")
    quantile_levels: list[QuantileLevel] = Field(
        default=[0.1, 0.5, 0.9], min_length=1, description="Distinct levels in (0, 1), at most max_quantiles (99)."
    )
    level: float = Field(0.8, strict=True, gt=0, lt=1, description="Interval whose coverage is measured.")
    seasonality: PositiveInteger | None = Field(
        None, description="For MASE and the baseline; default from the frequency (12 monthly, …)."
    )
    future_covariates: list[StrictStr] = Field(default=[], description=FUTURE_COVARIATES)
    joint: bool = Field(False, strict=True, description=JOINT)
    cross_learning: bool = Field(False, strict=True, description=CROSS_LEARNING)
    adapter: AdapterName | None = Field(None, description=ADAPTER)
    calibrate: bool = Field(
        False,
        strict=True,
        description="Also calibrate each window's bands as a calibrated forecast made at its cutoff would be (on "
        "windows before it only), and report their coverage and WQL beside the raw ones.",
    )

    _horizon_limit = field_validator("horizon")(_check_horizon)
    _levels_limit = field_validator("quantile_levels")(_check_levels)

    @model_validator(mode="after")
    def _answer_size(self, info: ValidationInfo) -> BacktestRequest:
        numbers = len(self.series) * self.windows * self.horizon * (len(self.quantile_levels) + 3)
        _check_answer_size(numbers, "series × windows × horizon × (quantile levels + 3)", info)
        return self


class AdapterRequest(SeriesRequest):
    """``POST /api/v1/adapters``: fine-tune the model (LoRA) on these series."""

    name: AdapterName
    horizon: Integer = Field(ge=1, description="Steps the adapter learns to forecast, 1 to max_horizon (default 1024).")
    steps: Integer = Field(200, ge=1, description="Training steps, 1 to train_max_steps (default 2000).")
    learning_rate: float = Field(
        1e-3, gt=0, le=0.1, allow_inf_nan=False, description="The LoRA learning rate (default 0.001)."
    )
    validation_windows: Integer = Field(
        1,
        ge=1,
        le=5,
        description="The last windows of `horizon` points of each series: never trained on, they score "
        "the adapter against the model it started from.",
    )
    seed: Integer | None = Field(
        None,
        ge=0,
        le=2**32 - 1,
        description="The random seed (default 42): the same data, settings and seed give the same adapter.",
    )
    future_covariates: list[StrictStr] = Field(default=[], description=FUTURE_COVARIATES)
    joint: bool = Field(False, strict=True, description=JOINT)

    _horizon_limit = field_validator("horizon")(_check_horizon)

    @field_validator("steps")
    @classmethod
    def _at_most_train_max_steps(cls, steps: int, info: ValidationInfo) -> int:
        most = limit(info, "train_max_steps")
        if steps > most:
            raise ValueError(f"steps must be at most {most}, got {steps}")
        return steps

    @model_validator(mode="after")
    def _at_most_train_max_points(self, info: ValidationInfo) -> AdapterRequest:
        most = limit(info, "train_max_points")
        points = sum(len(s.values) for s in self.series)
        if points > most:
            raise ValueError(f"the series hold {points:,} points; a training job takes at most {most:,}")
        return self


class ModelInfo(BaseModel):
    """The model that answered."""

    id: str
    device: str
    dtype: str
    adapter: str | None = Field(None, description="The adapter the model ran with (null: none).")


class CovariateInfo(BaseModel):
    """How a covariate was read."""

    name: str
    type: Literal["numeric", "categorical"]
    future: bool = Field(description="True when its future values were given (known in the future).")


class Calibration(BaseModel):
    """How a forecast's bands were calibrated on its own history (or why they were not)."""

    applied: bool
    reason: str | None = Field(None, description="Why not, when `applied` is false (the raw bands are returned).")
    windows: int | None = Field(None, description="Past windows of the horizon forecast for it.")
    points: int | None = Field(None, description="Past points scored in them.")
    coverage_before: dict[str, float | None] | None = Field(
        None, description='Per band level ("0.8"): the share of past points the raw band covered.'
    )
    scale: dict[str, float | list[float]] | None = Field(
        None,
        description="Per band level: how much the band was stretched (> 1) or shrunk (< 1), per step when "
        "enough windows allowed.",
    )
    method: str | None = None


class Forecast(BaseModel):
    """One series' forecast."""

    name: str
    frequency: str | None = Field(description="pandas offset alias of the timeline, null without one.")
    timestamps: list[Timestamp] | None = Field(description="Future timestamps in the input's representation.")
    median: list[float]
    quantiles: dict[str, list[float]] = Field(description='Keyed by level as given, e.g. "0.1".')
    covariates: list[CovariateInfo] = Field(description="The series' covariates in input order.")
    calibration: Calibration | None = Field(None, description="With `calibrate`: what was done, or why not.")


class ForecastResponse(BaseModel):
    """Answer of ``POST /api/v1/forecast``."""

    model: ModelInfo
    forecasts: list[Forecast]


class HealthModel(ModelInfo):
    """The loaded model in detail."""

    source: Literal["huggingface", "local", "bundled"]
    parameters: int


class Health(BaseModel):
    """Answer of ``GET /api/v1/health`` once the model is loaded."""

    status: Literal["ok"]
    version: str
    model: HealthModel
    fallback: bool = Field(
        description="True when the offline demo model serves because the requested one could not be loaded."
    )
    fallback_reason: str | None
    queued: int = Field(description="Model calls waiting for the model.")
    in_flight: int = Field(description="Model calls being computed now.")
    auth: Literal["none", "api_key"] = Field(
        description='"api_key" when the other routes need Authorization: Bearer <key>.'
    )


class ErrorItem(BaseModel):
    """One validation problem."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ErrorItem] | None = None
    request_id: str | None = None


class SeriesAnomalies(BaseModel):
    """One series scanned: arrays with one entry per timeline point (null where not scored)."""

    name: str
    timestamps: list[Timestamp] | None
    values: list[float | None]
    expected: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    is_anomaly: list[bool | None]
    score: list[float | None]
    direction: list[Literal[-1, 0, 1]]
    count: int


class AnomaliesResponse(BaseModel):
    """Answer of ``POST /api/v1/anomalies``."""

    model: ModelInfo
    anomalies: list[SeriesAnomalies]


class BacktestWindow(BaseModel):
    """One rolling window: forecast vs actual."""

    cutoff: Timestamp | int = Field(description="Timestamp (or 0-based index) of the last context point.")
    timestamps: list[Timestamp] | None
    actual: list[float | None]
    median: list[float | None]
    quantiles: dict[str, list[float | None]]
    baseline: list[float | None]
    calibrated_quantiles: dict[str, list[float | None]] | None = Field(
        None, description="With `calibrate`: the quantiles calibrated on the windows before this one."
    )


class Metrics(BaseModel):
    """Model metrics averaged over windows; null where undefined."""

    MAE: float | None
    RMSE: float | None
    MAPE: float | None
    sMAPE: float | None
    MASE: float | None
    WQL: float | None = None
    coverage: float | None = None
    WQL_calibrated: float | None = Field(None, description="With `calibrate`: WQL of the calibrated quantiles.")
    coverage_calibrated: float | None = Field(None, description="With `calibrate`: coverage of the calibrated band.")


class Baseline(BaseModel):
    """The seasonal-naive baseline's metrics."""

    name: Literal["seasonal_naive"]
    metrics: Metrics


class WithoutCovariates(BaseModel):
    """The same windows forecast from the target alone."""

    metrics: Metrics


class BacktestCalibration(BaseModel):
    """How many of a series' windows had history enough before them to be calibrated."""

    windows: int
    calibrated: int
    reason: str | None = Field(description="Why a window was not calibrated (the first such), else null.")


class SeriesBacktest(BaseModel):
    """One series backtested."""

    name: str
    seasonality: int
    windows: list[BacktestWindow]
    metrics: Metrics
    baseline: Baseline
    skill: float | None = Field(description="1 - MASE_model / MASE_baseline.")
    calibration: BacktestCalibration | None = Field(None, description="With `calibrate`.")
    without_covariates: WithoutCovariates | None = Field(None, description="Only for series with covariates.")
    covariate_skill: float | None = Field(
        None, description="1 - MASE_with / MASE_without covariates; only for series with covariates."
    )


class BacktestSummary(BaseModel):
    """Means over the series."""

    metrics: Metrics
    baseline: Metrics
    skill: float | None
    without_covariates: WithoutCovariates | None = Field(
        None, description="When any series has covariates: means over the series, each forecast without them."
    )
    covariate_skill: float | None = Field(None, description="Mean covariate_skill of the series that have one.")


class BacktestResponse(BaseModel):
    """Answer of ``POST /api/v1/backtest``."""

    model: ModelInfo
    backtests: list[SeriesBacktest]
    summary: BacktestSummary


class Scores(BaseModel):
    """Means over the series of the held-out windows' metrics."""

    MASE: float | None
    WQL: float | None


class Validation(BaseModel):
    """The adapter against the model it started from, on windows it never trained on."""

    windows: int
    horizon: int
    zero_shot: Scores
    adapted: Scores
    skill: float | None = Field(description="1 - MASE_adapted / MASE_zero_shot: positive when the adapter helps.")
    recommended: bool = Field(description="True when skill > 0.")


class Adapter(BaseModel):
    """A model adapted to a user's data (its LoRA weights)."""

    name: str
    created: str = Field(description="ISO 8601, UTC.")
    base_model: str = Field(description="The model it was trained from; it runs only on that one.")
    series: int
    points: int = Field(description="Points trained on (the held-out windows not counted).")
    horizon: int
    steps: int
    learning_rate: float
    seed: int
    size_bytes: int = Field(description="The size of its LoRA weights on disk.")
    validation: Validation
    job: str = Field(description="The job that trained it.")


class AdapterList(BaseModel):
    """Answer of ``GET /api/v1/adapters``: yours, newest first."""

    adapters: list[Adapter]


class JobProgress(BaseModel):
    """How far a job has got."""

    step: int
    steps: int
    loss: float | None = Field(description="The training loss of the latest steps.")
    elapsed_s: float
    eta_s: float | None = Field(description="Seconds left, estimated from the steps so far.")


class Job(BaseModel):
    """A training job (``Location`` of ``POST /api/v1/adapters``)."""

    id: str
    kind: Literal["adapter"]
    name: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: JobProgress
    created: str = Field(description="ISO 8601, UTC.")
    started: str | None
    finished: str | None
    error: str | None
    result: Adapter | None = Field(description="The adapter, once the job has succeeded.")
