"""A thin Python client for the Credence gRPC service.

The generated stubs live in the ``credence.v1`` package beside this one (regenerate them with
``generate.sh``). This module wraps the calls analysts make most and returns plain dicts and
lists, which ``pandas.DataFrame`` takes as they are::

    from credence_client import Client
    client = Client("127.0.0.1:50051")
    answer = client.query("asia", evidence={"smoke": "yes"}, targets=["lung"])
    answer["posteriors"]["lung"]["yes"]          # 0.1
    records(answer)                               # [{"variable": "lung", "state": "yes", ...}]
"""

from __future__ import annotations

from typing import Iterable, Iterator, Mapping, Sequence

import grpc

from credence.v1 import credence_pb2 as pb
from credence.v1 import credence_pb2_grpc as rpc

__all__ = ["Client", "Session", "records", "pb"]


def _evidence(hard: Mapping[str, str] | None, soft: Mapping[str, Sequence[float]] | None) -> pb.Evidence:
    evidence = pb.Evidence()
    for variable, state in (hard or {}).items():
        evidence.hard[variable] = state
    for variable, values in (soft or {}).items():
        evidence.soft[variable].values.extend(float(v) for v in values)
    return evidence


def _answer(response: pb.QueryResponse) -> dict:
    """A QueryResponse as {"posteriors": {VAR: {STATE: P}}, "log_p_evidence": F, ...}."""
    answer = {
        "posteriors": {
            p.variable: dict(zip(p.states, p.probabilities)) for p in response.posteriors
        },
        "log_p_evidence": response.log_p_evidence,
        "engine": pb.Engine.Name(response.stamp.engine),
        "network_hash": response.stamp.network_hash,
    }
    if response.engine_reason:
        answer["engine_reason"] = response.engine_reason
    if response.uncertainty:
        answer["stderr"] = {u.variable: list(u.stderr) for u in response.uncertainty}
        answer["intervals"] = {
            u.variable: list(zip(u.lower, u.upper)) for u in response.uncertainty
        }
    return answer


def records(answer: dict, **extra) -> list[dict]:
    """Long-format rows {"variable", "state", "probability", **extra}, one per state."""
    return [
        {"variable": variable, "state": state, "probability": probability, **extra}
        for variable, states in answer["posteriors"].items()
        for state, probability in states.items()
    ]


class Session:
    """An evidence session: changes become numbered revisions kept by the server."""

    def __init__(self, client: "Client", message: pb.Session):
        self._client = client
        self.id = message.id
        self.network = message.network
        # The network version the session is bound to, for life (NetworkSummary.content_hash).
        self.network_hash = message.network_hash
        self.owner = message.owner

    @property
    def revision(self) -> int:
        return self._client._sessions.GetSession(pb.GetSessionRequest(id=self.id)).revision

    def observe(self, variable: str, state: str, source: str = "", note: str = "") -> int:
        """Sets hard evidence; returns the new revision number."""
        change = pb.EvidenceChange(set_hard=pb.HardFinding(variable=variable, state=state))
        return self._update([change], source, note)

    def likelihood(self, variable: str, values: Sequence[float], source: str = "", note: str = "") -> int:
        """Sets soft evidence (one weight per state); returns the new revision number."""
        change = pb.EvidenceChange(set_soft=pb.SoftFinding(variable=variable, values=list(values)))
        return self._update([change], source, note)

    def retract(self, variable: str, source: str = "", note: str = "") -> int:
        """Removes the finding on a variable; returns the new revision number."""
        return self._update([pb.EvidenceChange(retract=variable)], source, note)

    def _update(self, changes: list, source: str, note: str) -> int:
        request = pb.UpdateEvidenceRequest(id=self.id, changes=changes, source=source, note=note)
        return self._client._sessions.UpdateEvidence(request).revision.number

    def posteriors(self, targets: Iterable[str] = (), revision: int | None = None) -> dict:
        """Posteriors at the current revision, or at an earlier one."""
        request = pb.GetPosteriorsRequest(id=self.id, targets=list(targets))
        if revision is not None:
            request.revision = revision
            request.at_revision = True
        return _answer(self._client._sessions.GetPosteriors(request))

    def history(self) -> list[dict]:
        """Every revision: number, source, note, time (ISO 8601) and the evidence after it.

        The server sends the history a page at a time; this follows the pages to the end.
        """
        result, token = [], ""
        while True:
            page = self._client._sessions.GetHistory(
                pb.GetHistoryRequest(id=self.id, page_size=500, page_token=token)
            )
            result.extend(
                {
                    "revision": r.number,
                    "source": r.source,
                    "note": r.note,
                    "applied": r.applied.ToJsonString(),
                    "hard": dict(r.evidence.hard),
                }
                for r in page.revisions
            )
            token = page.next_page_token
            if not token:
                return result

    def share(self, readers: Iterable[str]) -> None:
        """Lets these token names read the session ("*": every caller); replaces the previous list."""
        self._client._sessions.ShareSession(pb.ShareSessionRequest(id=self.id, readers=list(readers)))

    def watch(self, targets: Iterable[str] = (), timeout: float | None = None) -> Iterator[dict]:
        """Yields {"revision", "posteriors", ...} now and after every later revision."""
        stream = self._client._sessions.Watch(
            pb.WatchRequest(id=self.id, targets=list(targets)), timeout=timeout
        )
        for update in stream:
            answer = _answer(update.posteriors)
            answer["revision"] = update.revision
            yield answer

    def _context(self) -> pb.EvidenceContext:
        return pb.EvidenceContext(session=pb.SessionEvidence(id=self.id))

    def value_of_information(self, target: str, candidates: Iterable[str] = ()) -> list[dict]:
        """What to watch next: [{"variable", "mutual_information"}], most informative first."""
        response = self._client._analysis.ValueOfInformation(
            pb.ValueOfInformationRequest(context=self._context(), target=target, candidates=list(candidates))
        )
        return [{"variable": i.variable, "mutual_information": i.mutual_information} for i in response.ranking]

    def explain(self, target: str) -> dict:
        """Each evidence item's impact on the target, and the evidence conflict."""
        response = self._client._analysis.Explain(pb.ExplainRequest(context=self._context(), target=target))
        return {
            "states": list(response.states),
            "prior": list(response.prior),
            "posterior": list(response.posterior),
            "conflict": response.conflict,
            "conflicting": response.conflicting,
            "items": [
                {
                    "variable": item.variable,
                    "state": item.state,
                    "total_variation": item.total_variation,
                    "posterior_without": list(item.posterior_without),
                }
                for item in response.items
            ],
        }

    def delete(self) -> None:
        self._client._sessions.DeleteSession(pb.DeleteSessionRequest(id=self.id))


class Client:
    """A connection to a Credence server, e.g. ``Client("127.0.0.1:50051")``."""

    def __init__(self, address: str, channel: grpc.Channel | None = None):
        self.channel = channel or grpc.insecure_channel(address)
        self._networks = rpc.NetworkServiceStub(self.channel)
        self._inference = rpc.InferenceServiceStub(self.channel)
        self._sessions = rpc.SessionServiceStub(self.channel)
        self._analysis = rpc.AnalysisServiceStub(self.channel)

    def networks(self) -> list[dict]:
        """Every network: name, counts, content hash, treewidth."""
        result, token = [], ""
        while True:
            page = self._networks.ListNetworks(pb.ListNetworksRequest(page_size=100, page_token=token))
            for n in page.networks:
                result.append({
                    "name": n.name,
                    "variables": n.n_variables,
                    "arcs": n.n_arcs,
                    "parameters": n.n_parameters,
                    "treewidth": n.cost.treewidth,
                    "content_hash": n.content_hash,
                })
            token = page.next_page_token
            if not token:
                return result

    def network(self, name: str) -> list[dict]:
        """The variables of a network: name, states, parents, description."""
        response = self._networks.GetNetwork(pb.GetNetworkRequest(name=name))
        return [
            {"name": v.name, "states": list(v.states), "parents": list(v.parents), "description": v.description}
            for v in response.variables
        ]

    def query(
        self,
        network: str,
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        targets: Iterable[str] = (),
        engine: str = "ENGINE_UNSPECIFIED",
        samples: int = 0,
        seed: int = 0,
        timeout: float | None = None,
    ) -> dict:
        """Posteriors given evidence (stateless). Raises grpc.RpcError with the server's message."""
        request = pb.QueryRequest(
            network=network,
            evidence=_evidence(evidence, soft),
            targets=list(targets),
            engine=pb.Engine.Value(engine),
            sampling=pb.SamplingOptions(n_samples=samples, seed=seed),
        )
        return _answer(self._inference.Query(request, timeout=timeout))

    def session(self, network: str, description: str = "") -> Session:
        """Opens an evidence session on a network."""
        message = self._sessions.CreateSession(pb.CreateSessionRequest(network=network, description=description))
        return Session(self, message)

    def sessions(self) -> list[Session]:
        """Every session this caller may see (its own and those shared with it), page after page."""
        result, token = [], ""
        while True:
            page = self._sessions.ListSessions(pb.ListSessionsRequest(page_size=500, page_token=token))
            result.extend(Session(self, message) for message in page.sessions)
            token = page.next_page_token
            if not token:
                return result

    def close(self) -> None:
        self.channel.close()
