// A virtualised list: only the rows in view (and a few around them) are in the DOM, so a
// directory of 100,000 entries costs what a screenful does. TanStack's virtual-core does the
// arithmetic; this binds it to Preact.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";
import {
  Virtualizer,
  elementScroll,
  observeElementOffset,
  observeElementRect,
} from "@tanstack/virtual-core";

export function VirtualList(props: {
  count: number;
  rowHeight: number;
  label: string;
  // Asked for when the rows in view come near the end of those loaded.
  onNearEnd?: () => void;
  row: (index: number) => ComponentChildren;
  header?: ComponentChildren;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [v] = useState(
    () =>
      new Virtualizer<HTMLDivElement, Element>({
        count: props.count,
        getScrollElement: () => scroller.current,
        estimateSize: () => props.rowHeight,
        overscan: 10,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => rerender(0),
      }),
  );
  v.setOptions({ ...v.options, count: props.count });
  useEffect(() => v._didMount(), []);
  useLayoutEffect(() => v._willUpdate());
  const items = v.getVirtualItems();
  const last = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (props.onNearEnd && last >= props.count - 50) props.onNearEnd();
  }, [last, props.count]);
  return (
    <div
      class="vlist"
      ref={scroller}
      role="grid"
      aria-label={props.label}
      aria-rowcount={props.count}
    >
      {props.header}
      <div style={{ height: `${v.getTotalSize()}px`, position: "relative" }}>
        {items.map((it) => (
          <div
            key={it.key}
            role="row"
            aria-rowindex={it.index + 1}
            class="vrow"
            style={{
              position: "absolute",
              top: 0,
              left: 0,
              right: 0,
              height: `${it.size}px`,
              transform: `translateY(${it.start}px)`,
            }}
          >
            {props.row(it.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
