// The page's one way to the server: the generated `credence.v1` services over gRPC-web, on the
// origin that served the page. No second API.
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  AnalysisService,
  Engine,
  InferenceService,
  NetworkService,
  SessionService,
} from "./gen/credence/v1/credence_pb";

export interface Clients {
  networks: Client<typeof NetworkService>;
  inference: Client<typeof InferenceService>;
  sessions: Client<typeof SessionService>;
  analysis: Client<typeof AnalysisService>;
}

// The token lives in this tab's memory (and, if the user asks, sessionStorage), never on the
// server: the server keeps only digests of the tokens it accepts.
let token: string | null = sessionStorage.getItem("credence-token");

export function setToken(value: string | null, remember: boolean): void {
  token = value && value.trim() !== "" ? value.trim() : null;
  if (remember && token) sessionStorage.setItem("credence-token", token);
  else sessionStorage.removeItem("credence-token");
}

export function hasToken(): boolean {
  return token !== null;
}

const bearer: Interceptor = (next) => async (request) => {
  if (token) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

export function connect(): Clients {
  const transport = createGrpcWebTransport({
    baseUrl: window.location.origin,
    interceptors: [bearer],
  });
  return {
    networks: createClient(NetworkService, transport),
    inference: createClient(InferenceService, transport),
    sessions: createClient(SessionService, transport),
    analysis: createClient(AnalysisService, transport),
  };
}

export const ENGINES: { name: string; engine: Engine; label: string }[] = [
  { name: "auto", engine: Engine.UNSPECIFIED, label: "auto (server's choice)" },
  { name: "jt", engine: Engine.JUNCTION_TREE, label: "junction tree (exact)" },
  { name: "ve", engine: Engine.VARIABLE_ELIMINATION, label: "variable elimination (exact)" },
  { name: "lw", engine: Engine.LIKELIHOOD_WEIGHTING, label: "likelihood weighting" },
  { name: "gibbs", engine: Engine.GIBBS, label: "Gibbs" },
  { name: "epis", engine: Engine.EPIS, label: "EPIS-BN" },
];

export function engineName(engine: Engine): string {
  return (
    ENGINES.find((e) => e.engine === engine)?.name ??
    { [Engine.ENUMERATION]: "enum", [Engine.REJECTION]: "rejection" }[engine as number] ??
    "?"
  );
}

/** The server's one sentence, without the transport's decoration. */
export function messageOf(error: unknown): string {
  const e = ConnectError.from(error);
  return e.rawMessage || e.message;
}

export function isUnauthenticated(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Unauthenticated;
}

export function isCancelled(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}
