import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NetworkFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NETWORK_FORMAT_UNSPECIFIED: _ClassVar[NetworkFormat]
    NETWORK_FORMAT_BIF: _ClassVar[NetworkFormat]
    NETWORK_FORMAT_XMLBIF: _ClassVar[NetworkFormat]
    NETWORK_FORMAT_NET: _ClassVar[NetworkFormat]
    NETWORK_FORMAT_XDSL: _ClassVar[NetworkFormat]
    NETWORK_FORMAT_UAI: _ClassVar[NetworkFormat]

class Engine(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENGINE_UNSPECIFIED: _ClassVar[Engine]
    ENGINE_JUNCTION_TREE: _ClassVar[Engine]
    ENGINE_VARIABLE_ELIMINATION: _ClassVar[Engine]
    ENGINE_ENUMERATION: _ClassVar[Engine]
    ENGINE_LIKELIHOOD_WEIGHTING: _ClassVar[Engine]
    ENGINE_GIBBS: _ClassVar[Engine]
    ENGINE_REJECTION: _ClassVar[Engine]
    ENGINE_EPIS: _ClassVar[Engine]
NETWORK_FORMAT_UNSPECIFIED: NetworkFormat
NETWORK_FORMAT_BIF: NetworkFormat
NETWORK_FORMAT_XMLBIF: NetworkFormat
NETWORK_FORMAT_NET: NetworkFormat
NETWORK_FORMAT_XDSL: NetworkFormat
NETWORK_FORMAT_UAI: NetworkFormat
ENGINE_UNSPECIFIED: Engine
ENGINE_JUNCTION_TREE: Engine
ENGINE_VARIABLE_ELIMINATION: Engine
ENGINE_ENUMERATION: Engine
ENGINE_LIKELIHOOD_WEIGHTING: Engine
ENGINE_GIBBS: Engine
ENGINE_REJECTION: Engine
ENGINE_EPIS: Engine

class ListNetworksRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks", "next_page_token")
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[NetworkSummary]
    next_page_token: str
    def __init__(self, networks: _Optional[_Iterable[_Union[NetworkSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class NetworkSummary(_message.Message):
    __slots__ = ("name", "n_variables", "n_arcs", "n_parameters", "content_hash", "cost", "read_only", "owner")
    NAME_FIELD_NUMBER: _ClassVar[int]
    N_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    N_ARCS_FIELD_NUMBER: _ClassVar[int]
    N_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    name: str
    n_variables: int
    n_arcs: int
    n_parameters: int
    content_hash: str
    cost: CostEstimate
    read_only: bool
    owner: str
    def __init__(self, name: _Optional[str] = ..., n_variables: _Optional[int] = ..., n_arcs: _Optional[int] = ..., n_parameters: _Optional[int] = ..., content_hash: _Optional[str] = ..., cost: _Optional[_Union[CostEstimate, _Mapping]] = ..., read_only: _Optional[bool] = ..., owner: _Optional[str] = ...) -> None: ...

class CostEstimate(_message.Message):
    __slots__ = ("treewidth", "n_cliques", "largest_clique_entries", "total_clique_entries", "bytes", "fits_budget")
    TREEWIDTH_FIELD_NUMBER: _ClassVar[int]
    N_CLIQUES_FIELD_NUMBER: _ClassVar[int]
    LARGEST_CLIQUE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CLIQUE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    FITS_BUDGET_FIELD_NUMBER: _ClassVar[int]
    treewidth: int
    n_cliques: int
    largest_clique_entries: float
    total_clique_entries: float
    bytes: float
    fits_budget: bool
    def __init__(self, treewidth: _Optional[int] = ..., n_cliques: _Optional[int] = ..., largest_clique_entries: _Optional[float] = ..., total_clique_entries: _Optional[float] = ..., bytes: _Optional[float] = ..., fits_budget: _Optional[bool] = ...) -> None: ...

class GetNetworkRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetNetworkResponse(_message.Message):
    __slots__ = ("summary", "variables")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    summary: NetworkSummary
    variables: _containers.RepeatedCompositeFieldContainer[Variable]
    def __init__(self, summary: _Optional[_Union[NetworkSummary, _Mapping]] = ..., variables: _Optional[_Iterable[_Union[Variable, _Mapping]]] = ...) -> None: ...

class Variable(_message.Message):
    __slots__ = ("name", "states", "parents", "description", "position")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PARENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    states: _containers.RepeatedScalarFieldContainer[str]
    parents: _containers.RepeatedScalarFieldContainer[str]
    description: str
    position: Position
    def __init__(self, name: _Optional[str] = ..., states: _Optional[_Iterable[str]] = ..., parents: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class UploadNetworkRequest(_message.Message):
    __slots__ = ("name", "format", "content", "replace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: NetworkFormat
    content: str
    replace: bool
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[NetworkFormat, str]] = ..., content: _Optional[str] = ..., replace: _Optional[bool] = ...) -> None: ...

class UploadNetworkResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: NetworkSummary
    def __init__(self, summary: _Optional[_Union[NetworkSummary, _Mapping]] = ...) -> None: ...

class DeleteNetworkRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteNetworkResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("hard", "soft")
    class HardEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SoftEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Likelihood
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Likelihood, _Mapping]] = ...) -> None: ...
    HARD_FIELD_NUMBER: _ClassVar[int]
    SOFT_FIELD_NUMBER: _ClassVar[int]
    hard: _containers.ScalarMap[str, str]
    soft: _containers.MessageMap[str, Likelihood]
    def __init__(self, hard: _Optional[_Mapping[str, str]] = ..., soft: _Optional[_Mapping[str, Likelihood]] = ...) -> None: ...

class Likelihood(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class SamplingOptions(_message.Message):
    __slots__ = ("n_samples", "seed", "precision", "max_time", "n_chains", "burn_in", "thinning")
    N_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    MAX_TIME_FIELD_NUMBER: _ClassVar[int]
    N_CHAINS_FIELD_NUMBER: _ClassVar[int]
    BURN_IN_FIELD_NUMBER: _ClassVar[int]
    THINNING_FIELD_NUMBER: _ClassVar[int]
    n_samples: int
    seed: int
    precision: float
    max_time: _duration_pb2.Duration
    n_chains: int
    burn_in: int
    thinning: int
    def __init__(self, n_samples: _Optional[int] = ..., seed: _Optional[int] = ..., precision: _Optional[float] = ..., max_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., n_chains: _Optional[int] = ..., burn_in: _Optional[int] = ..., thinning: _Optional[int] = ...) -> None: ...

class Uncertainty(_message.Message):
    __slots__ = ("variable", "stderr", "lower", "upper")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    variable: str
    stderr: _containers.RepeatedScalarFieldContainer[float]
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, variable: _Optional[str] = ..., stderr: _Optional[_Iterable[float]] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class SamplingSummary(_message.Message):
    __slots__ = ("n_samples", "ess", "r_hat", "stopped_by", "warnings", "notes")
    N_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    ESS_FIELD_NUMBER: _ClassVar[int]
    R_HAT_FIELD_NUMBER: _ClassVar[int]
    STOPPED_BY_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    n_samples: int
    ess: float
    r_hat: float
    stopped_by: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, n_samples: _Optional[int] = ..., ess: _Optional[float] = ..., r_hat: _Optional[float] = ..., stopped_by: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...

class Posterior(_message.Message):
    __slots__ = ("variable", "states", "probabilities")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    variable: str
    states: _containers.RepeatedScalarFieldContainer[str]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, variable: _Optional[str] = ..., states: _Optional[_Iterable[str]] = ..., probabilities: _Optional[_Iterable[float]] = ...) -> None: ...

class Stamp(_message.Message):
    __slots__ = ("network_hash", "engine", "seed")
    NETWORK_HASH_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    network_hash: str
    engine: Engine
    seed: int
    def __init__(self, network_hash: _Optional[str] = ..., engine: _Optional[_Union[Engine, str]] = ..., seed: _Optional[int] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("network", "evidence", "targets", "engine", "case_id", "timeout", "sampling")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    network: str
    evidence: Evidence
    targets: _containers.RepeatedScalarFieldContainer[str]
    engine: Engine
    case_id: str
    timeout: _duration_pb2.Duration
    sampling: SamplingOptions
    def __init__(self, network: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ..., targets: _Optional[_Iterable[str]] = ..., engine: _Optional[_Union[Engine, str]] = ..., case_id: _Optional[str] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., sampling: _Optional[_Union[SamplingOptions, _Mapping]] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("posteriors", "log_p_evidence", "stamp", "engine_reason", "uncertainty", "sampling")
    POSTERIORS_FIELD_NUMBER: _ClassVar[int]
    LOG_P_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    STAMP_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REASON_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    posteriors: _containers.RepeatedCompositeFieldContainer[Posterior]
    log_p_evidence: float
    stamp: Stamp
    engine_reason: str
    uncertainty: _containers.RepeatedCompositeFieldContainer[Uncertainty]
    sampling: SamplingSummary
    def __init__(self, posteriors: _Optional[_Iterable[_Union[Posterior, _Mapping]]] = ..., log_p_evidence: _Optional[float] = ..., stamp: _Optional[_Union[Stamp, _Mapping]] = ..., engine_reason: _Optional[str] = ..., uncertainty: _Optional[_Iterable[_Union[Uncertainty, _Mapping]]] = ..., sampling: _Optional[_Union[SamplingSummary, _Mapping]] = ...) -> None: ...

class BatchQueryResponse(_message.Message):
    __slots__ = ("case_id", "index", "result", "error")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    index: int
    result: QueryResponse
    error: CaseError
    def __init__(self, case_id: _Optional[str] = ..., index: _Optional[int] = ..., result: _Optional[_Union[QueryResponse, _Mapping]] = ..., error: _Optional[_Union[CaseError, _Mapping]] = ...) -> None: ...

class CaseError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ("network", "description")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    network: str
    description: str
    def __init__(self, network: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("id", "network", "description", "revision", "evidence", "created", "network_hash", "owner", "readers")
    ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    NETWORK_HASH_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    READERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    network: str
    description: str
    revision: int
    evidence: Evidence
    created: _timestamp_pb2.Timestamp
    network_hash: str
    owner: str
    readers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., network: _Optional[str] = ..., description: _Optional[str] = ..., revision: _Optional[int] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., network_hash: _Optional[str] = ..., owner: _Optional[str] = ..., readers: _Optional[_Iterable[str]] = ...) -> None: ...

class ShareSessionRequest(_message.Message):
    __slots__ = ("id", "readers")
    ID_FIELD_NUMBER: _ClassVar[int]
    READERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    readers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., readers: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteSessionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EvidenceChange(_message.Message):
    __slots__ = ("set_hard", "set_soft", "retract")
    SET_HARD_FIELD_NUMBER: _ClassVar[int]
    SET_SOFT_FIELD_NUMBER: _ClassVar[int]
    RETRACT_FIELD_NUMBER: _ClassVar[int]
    set_hard: HardFinding
    set_soft: SoftFinding
    retract: str
    def __init__(self, set_hard: _Optional[_Union[HardFinding, _Mapping]] = ..., set_soft: _Optional[_Union[SoftFinding, _Mapping]] = ..., retract: _Optional[str] = ...) -> None: ...

class HardFinding(_message.Message):
    __slots__ = ("variable", "state")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    variable: str
    state: str
    def __init__(self, variable: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class SoftFinding(_message.Message):
    __slots__ = ("variable", "values")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    variable: str
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, variable: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class UpdateEvidenceRequest(_message.Message):
    __slots__ = ("id", "changes", "source", "note", "expected_revision", "check_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    CHECK_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    changes: _containers.RepeatedCompositeFieldContainer[EvidenceChange]
    source: str
    note: str
    expected_revision: int
    check_revision: bool
    def __init__(self, id: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[EvidenceChange, _Mapping]]] = ..., source: _Optional[str] = ..., note: _Optional[str] = ..., expected_revision: _Optional[int] = ..., check_revision: _Optional[bool] = ...) -> None: ...

class UpdateEvidenceResponse(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: Revision
    def __init__(self, revision: _Optional[_Union[Revision, _Mapping]] = ...) -> None: ...

class Revision(_message.Message):
    __slots__ = ("number", "changes", "source", "note", "applied", "evidence")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    number: int
    changes: _containers.RepeatedCompositeFieldContainer[EvidenceChange]
    source: str
    note: str
    applied: _timestamp_pb2.Timestamp
    evidence: Evidence
    def __init__(self, number: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[EvidenceChange, _Mapping]]] = ..., source: _Optional[str] = ..., note: _Optional[str] = ..., applied: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class GetPosteriorsRequest(_message.Message):
    __slots__ = ("id", "targets", "revision", "at_revision", "engine", "sampling")
    ID_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AT_REVISION_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    id: str
    targets: _containers.RepeatedScalarFieldContainer[str]
    revision: int
    at_revision: bool
    engine: Engine
    sampling: SamplingOptions
    def __init__(self, id: _Optional[str] = ..., targets: _Optional[_Iterable[str]] = ..., revision: _Optional[int] = ..., at_revision: _Optional[bool] = ..., engine: _Optional[_Union[Engine, str]] = ..., sampling: _Optional[_Union[SamplingOptions, _Mapping]] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("id", "page_size", "page_token")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    id: str
    page_size: int
    page_token: str
    def __init__(self, id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetHistoryResponse(_message.Message):
    __slots__ = ("revisions", "next_page_token")
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[Revision]
    next_page_token: str
    def __init__(self, revisions: _Optional[_Iterable[_Union[Revision, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("id", "targets")
    ID_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    id: str
    targets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., targets: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchResponse(_message.Message):
    __slots__ = ("revision", "changes", "posteriors")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    POSTERIORS_FIELD_NUMBER: _ClassVar[int]
    revision: int
    changes: _containers.RepeatedCompositeFieldContainer[EvidenceChange]
    posteriors: QueryResponse
    def __init__(self, revision: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[EvidenceChange, _Mapping]]] = ..., posteriors: _Optional[_Union[QueryResponse, _Mapping]] = ...) -> None: ...

class EvidenceContext(_message.Message):
    __slots__ = ("stateless", "session")
    STATELESS_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    stateless: StatelessEvidence
    session: SessionEvidence
    def __init__(self, stateless: _Optional[_Union[StatelessEvidence, _Mapping]] = ..., session: _Optional[_Union[SessionEvidence, _Mapping]] = ...) -> None: ...

class StatelessEvidence(_message.Message):
    __slots__ = ("network", "evidence")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    network: str
    evidence: Evidence
    def __init__(self, network: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class SessionEvidence(_message.Message):
    __slots__ = ("id", "revision", "at_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AT_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    revision: int
    at_revision: bool
    def __init__(self, id: _Optional[str] = ..., revision: _Optional[int] = ..., at_revision: _Optional[bool] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("variable", "state")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    variable: str
    state: str
    def __init__(self, variable: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class MpeRequest(_message.Message):
    __slots__ = ("context", "variables")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    variables: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., variables: _Optional[_Iterable[str]] = ...) -> None: ...

class MpeResponse(_message.Message):
    __slots__ = ("assignment", "log_probability", "log_p_evidence")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    LOG_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    LOG_P_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    assignment: _containers.RepeatedCompositeFieldContainer[Assignment]
    log_probability: float
    log_p_evidence: float
    def __init__(self, assignment: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., log_probability: _Optional[float] = ..., log_p_evidence: _Optional[float] = ...) -> None: ...

class JointPosteriorRequest(_message.Message):
    __slots__ = ("context", "variables")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    variables: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., variables: _Optional[_Iterable[str]] = ...) -> None: ...

class JointEntry(_message.Message):
    __slots__ = ("states", "probability")
    STATES_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[str]
    probability: float
    def __init__(self, states: _Optional[_Iterable[str]] = ..., probability: _Optional[float] = ...) -> None: ...

class JointPosteriorResponse(_message.Message):
    __slots__ = ("variables", "entries")
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    variables: _containers.RepeatedScalarFieldContainer[str]
    entries: _containers.RepeatedCompositeFieldContainer[JointEntry]
    def __init__(self, variables: _Optional[_Iterable[str]] = ..., entries: _Optional[_Iterable[_Union[JointEntry, _Mapping]]] = ...) -> None: ...

class InterveneRequest(_message.Message):
    __slots__ = ("context", "interventions", "targets")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    INTERVENTIONS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    interventions: _containers.RepeatedCompositeFieldContainer[Assignment]
    targets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., interventions: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., targets: _Optional[_Iterable[str]] = ...) -> None: ...

class InterveneResponse(_message.Message):
    __slots__ = ("interventional", "observational", "log_p_evidence")
    INTERVENTIONAL_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONAL_FIELD_NUMBER: _ClassVar[int]
    LOG_P_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    interventional: _containers.RepeatedCompositeFieldContainer[Posterior]
    observational: _containers.RepeatedCompositeFieldContainer[Posterior]
    log_p_evidence: float
    def __init__(self, interventional: _Optional[_Iterable[_Union[Posterior, _Mapping]]] = ..., observational: _Optional[_Iterable[_Union[Posterior, _Mapping]]] = ..., log_p_evidence: _Optional[float] = ...) -> None: ...

class ValueOfInformationRequest(_message.Message):
    __slots__ = ("context", "target", "candidates")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    target: str
    candidates: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., target: _Optional[str] = ..., candidates: _Optional[_Iterable[str]] = ...) -> None: ...

class Information(_message.Message):
    __slots__ = ("variable", "mutual_information")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    MUTUAL_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    variable: str
    mutual_information: float
    def __init__(self, variable: _Optional[str] = ..., mutual_information: _Optional[float] = ...) -> None: ...

class ValueOfInformationResponse(_message.Message):
    __slots__ = ("target", "entropy", "ranking")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    target: str
    entropy: float
    ranking: _containers.RepeatedCompositeFieldContainer[Information]
    def __init__(self, target: _Optional[str] = ..., entropy: _Optional[float] = ..., ranking: _Optional[_Iterable[_Union[Information, _Mapping]]] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("context", "target")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    target: str
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., target: _Optional[str] = ...) -> None: ...

class EvidenceImpact(_message.Message):
    __slots__ = ("variable", "state", "likelihood", "posterior_without", "total_variation", "log_likelihood_ratio", "log_p_item", "log_p_item_given_rest", "conflict_contribution")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LIKELIHOOD_FIELD_NUMBER: _ClassVar[int]
    POSTERIOR_WITHOUT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_VARIATION_FIELD_NUMBER: _ClassVar[int]
    LOG_LIKELIHOOD_RATIO_FIELD_NUMBER: _ClassVar[int]
    LOG_P_ITEM_FIELD_NUMBER: _ClassVar[int]
    LOG_P_ITEM_GIVEN_REST_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    variable: str
    state: str
    likelihood: _containers.RepeatedScalarFieldContainer[float]
    posterior_without: _containers.RepeatedScalarFieldContainer[float]
    total_variation: float
    log_likelihood_ratio: _containers.RepeatedScalarFieldContainer[float]
    log_p_item: float
    log_p_item_given_rest: float
    conflict_contribution: float
    def __init__(self, variable: _Optional[str] = ..., state: _Optional[str] = ..., likelihood: _Optional[_Iterable[float]] = ..., posterior_without: _Optional[_Iterable[float]] = ..., total_variation: _Optional[float] = ..., log_likelihood_ratio: _Optional[_Iterable[float]] = ..., log_p_item: _Optional[float] = ..., log_p_item_given_rest: _Optional[float] = ..., conflict_contribution: _Optional[float] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("target", "states", "prior", "posterior", "log_p_evidence", "items", "conflict", "conflicting")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PRIOR_FIELD_NUMBER: _ClassVar[int]
    POSTERIOR_FIELD_NUMBER: _ClassVar[int]
    LOG_P_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_FIELD_NUMBER: _ClassVar[int]
    target: str
    states: _containers.RepeatedScalarFieldContainer[str]
    prior: _containers.RepeatedScalarFieldContainer[float]
    posterior: _containers.RepeatedScalarFieldContainer[float]
    log_p_evidence: float
    items: _containers.RepeatedCompositeFieldContainer[EvidenceImpact]
    conflict: float
    conflicting: bool
    def __init__(self, target: _Optional[str] = ..., states: _Optional[_Iterable[str]] = ..., prior: _Optional[_Iterable[float]] = ..., posterior: _Optional[_Iterable[float]] = ..., log_p_evidence: _Optional[float] = ..., items: _Optional[_Iterable[_Union[EvidenceImpact, _Mapping]]] = ..., conflict: _Optional[float] = ..., conflicting: _Optional[bool] = ...) -> None: ...

class SensitivityRequest(_message.Message):
    __slots__ = ("context", "target", "state", "top")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    context: EvidenceContext
    target: str
    state: str
    top: int
    def __init__(self, context: _Optional[_Union[EvidenceContext, _Mapping]] = ..., target: _Optional[str] = ..., state: _Optional[str] = ..., top: _Optional[int] = ...) -> None: ...

class ParameterSensitivity(_message.Message):
    __slots__ = ("variable", "parents", "state", "value", "derivative")
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    PARENTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DERIVATIVE_FIELD_NUMBER: _ClassVar[int]
    variable: str
    parents: _containers.RepeatedCompositeFieldContainer[Assignment]
    state: str
    value: float
    derivative: float
    def __init__(self, variable: _Optional[str] = ..., parents: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., state: _Optional[str] = ..., value: _Optional[float] = ..., derivative: _Optional[float] = ...) -> None: ...

class SensitivityResponse(_message.Message):
    __slots__ = ("target", "state", "probability", "parameters")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    target: str
    state: str
    probability: float
    parameters: _containers.RepeatedCompositeFieldContainer[ParameterSensitivity]
    def __init__(self, target: _Optional[str] = ..., state: _Optional[str] = ..., probability: _Optional[float] = ..., parameters: _Optional[_Iterable[_Union[ParameterSensitivity, _Mapping]]] = ...) -> None: ...
