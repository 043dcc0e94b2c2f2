// The lineage of a version as a graph, laid out left to right by dagre: what it came from on the
// left (upstream) or what was made from it on the right (downstream). Labels are SVG text, set
// as text like everything else from the catalog.
import dagre from "@dagrejs/dagre";
import { href } from "./ui";

export interface GraphNode {
  kind: "dataset" | "file" | "path";
  dataset?: string;
  version?: number;
  path?: string;
  uri?: string;
  via?: { job?: string };
  children?: GraphNode[];
}

const W = 190;
const H = 34;

function keyOf(n: GraphNode): string {
  return n.kind === "dataset" ? `d:${n.dataset}:${n.version}` : `f:${n.uri ?? n.path}`;
}

function labelOf(n: GraphNode): string {
  if (n.kind === "dataset") return `${n.dataset}:${n.version}`;
  const p = n.path ?? n.uri ?? "";
  return p.slice(p.lastIndexOf("/") + 1) || p;
}

function shorten(s: string, max = 26): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

export function LineageGraph(p: {
  ws: string;
  root: GraphNode;
  direction: "upstream" | "downstream";
}) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 60, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const nodes = new Map<string, GraphNode>();
  const walk = (n: GraphNode) => {
    const k = keyOf(n);
    if (!nodes.has(k)) {
      nodes.set(k, n);
      g.setNode(k, { width: W, height: H });
    }
    for (const c of n.children ?? []) {
      const ck = keyOf(c);
      walk(c);
      // Data flows from what a version came from to the version.
      if (p.direction === "upstream") g.setEdge(ck, k);
      else g.setEdge(k, ck);
    }
  };
  walk(p.root);
  dagre.layout(g);
  const box = g.graph();
  const width = Math.max(box.width ?? 0, W);
  const height = Math.max(box.height ?? 0, H);
  return (
    <svg
      class="graph"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Lineage graph, ${p.direction}: ${Array.from(nodes.values()).map(labelOf).join(", ")}`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
        </marker>
      </defs>
      {g.edges().map((e) => {
        const pts = g.edge(e).points ?? [];
        const d = pts
          .map((pt: { x: number; y: number }, i: number) => `${i ? "L" : "M"} ${pt.x} ${pt.y}`)
          .join(" ");
        return <path key={`${e.v}->${e.w}`} d={d} class="edge" marker-end="url(#arrow)" />;
      })}
      {Array.from(nodes.entries()).map(([k, n]) => {
        const pos = g.node(k);
        const x = pos.x - W / 2;
        const y = pos.y - H / 2;
        const label = labelOf(n);
        const body = (
          <g class={`node ${n.kind}${k === keyOf(p.root) ? " root" : ""}`}>
            <title>{n.kind === "dataset" ? label : (n.uri ?? n.path ?? "")}</title>
            <rect x={x} y={y} width={W} height={H} rx={5} />
            <text x={x + 10} y={y + H / 2 + 4}>
              {shorten(label)}
            </text>
          </g>
        );
        return n.kind === "dataset" ? (
          <a key={k} href={href("datasets", p.ws, n.dataset ?? "", String(n.version ?? ""))}>
            {body}
          </a>
        ) : (
          <g key={k}>{body}</g>
        );
      })}
    </svg>
  );
}
