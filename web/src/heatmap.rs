//! Interaction-map heatmaps (design.md): per layer and head, or summed; weight or activation
//! view; raw or row-normalised. Every cell carries its value (hover title and data attribute).

use leptos::prelude::*;
use qnn_maps::{InteractionMaps, MapView};

fn color(t: f64) -> String {
    // White → deep orange.
    let t = t.clamp(0.0, 1.0);
    let r = 255.0 - t * 40.0;
    let g = 255.0 - t * 170.0;
    let b = 255.0 - t * 235.0;
    format!("rgb({r:.0},{g:.0},{b:.0})")
}

#[component]
pub fn Heatmap(
    id: &'static str,
    maps: Signal<Option<InteractionMaps>>,
    /// What the heatmap says while there are no maps.
    placeholder: Signal<String>,
) -> impl IntoView {
    let (view_kind, set_view_kind) = signal(MapView::Activation);
    let (layer, set_layer) = signal::<Option<usize>>(None);
    let (head, set_head) = signal::<Option<usize>>(None);
    let (normalized, set_normalized) = signal(false);
    // A field's product with itself (the diagonal) can outweigh every pair by far, which would
    // leave the pairs white; by default the shades are scaled to the pairs.
    let (pairs_scale, set_pairs_scale) = signal(true);
    let shape = move || {
        maps.get()
            .map(|m| {
                (
                    m.layers.len(),
                    m.layers.first().map_or(0, |l| l.heads.len()),
                )
            })
            .unwrap_or((0, 0))
    };
    let has_activation = move || {
        maps.get().is_some_and(|m| {
            m.layers
                .iter()
                .all(|l| l.heads.iter().all(|h| h.activation.is_some()))
        })
    };
    let chosen_view = move || {
        if has_activation() {
            view_kind.get()
        } else {
            MapView::Weight
        }
    };
    let body = move || {
        let Some(m) = maps.get() else {
            return view! { <p class="muted" id=format!("{id}-placeholder")>{placeholder.get()}</p> }.into_any();
        };
        let Some(mut matrix) = m.select(chosen_view(), layer.get(), head.get()) else {
            return view! { <p class="muted">"No map for this choice."</p> }.into_any();
        };
        if normalized.get() {
            matrix = matrix.row_normalized();
        }
        let n = matrix.size;
        let names = m.field_names.clone();
        let hottest = matrix.top_off_diagonal();
        let max = if pairs_scale.get() {
            matrix.pair_scale()
        } else {
            matrix.max()
        };
        let header = names
            .iter()
            .map(|name| view! { <th class="col-field"><span>{name.clone()}</span></th> })
            .collect_view();
        let rows = (0..n)
            .map(|a| {
                let cells = (0..n)
                    .map(|b| {
                        let v = matrix.get(a, b);
                        let hot = hottest.is_some_and(|(ha, hb, _)| ha == a && hb == b);
                        let shade = if max > 0.0 { v / max } else { 0.0 };
                        let beyond = shade > 1.0;
                        view! {
                            <td class="cell" class:hottest=hot class:beyond=beyond
                                style=format!("background:{}", color(shade))
                                title=format!("{} × {}: {v:.5}", names[a], names[b])
                                data-a=names[a].clone() data-b=names[b].clone() data-value=format!("{v:.6}")></td>
                        }
                    })
                    .collect_view();
                view! { <tr><th class="row-field">{names[a].clone()}</th>{cells}</tr> }
            })
            .collect_view();
        let caption = hottest.map(|(a, b, v)| {
            view! {
                <p id=format!("{id}-hottest") data-a=names[a].clone() data-b=names[b].clone() data-value=format!("{v:.6}")>
                    "Hottest pair: " <strong>{format!("{} × {}", names[a], names[b])}</strong>
                    {format!(" ({v:.4}; row = field whose values are scaled, column = field that scales them)")}
                </p>
            }
        });
        // What the shades mean: white is zero, the deepest is `max` (the largest pair, or the
        // largest cell).
        let scale = format!(
            "background: linear-gradient(to right, {}, {})",
            color(0.0),
            color(1.0)
        );
        view! {
            {caption}
            <table class="heatmap">
                <thead><tr><th></th>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="heatmap-scale" id=format!("{id}-scale")>
                <span>"0"</span><span class="bar" style=scale></span><span class="max">{format!("{max:.4}")}</span>
                {move || pairs_scale.get().then_some(" (the largest pair; dashed cells lie beyond it)")}
            </p>
        }
        .into_any()
    };
    view! {
        <div class="heatmap-box" id=id>
            // Nothing to choose between without maps.
            <div class="controls" hidden=move || maps.with(Option::is_none)>
                <label>"View "
                    <select on:change=move |ev| set_view_kind.set(if event_target_value(&ev) == "weight" { MapView::Weight } else { MapView::Activation })
                        prop:value=move || if chosen_view() == MapView::Weight { "weight" } else { "activation" } class="map-view">
                        <option value="activation" disabled=move || !has_activation()>"activation (on test rows)"</option>
                        <option value="weight">"weight (data-free)"</option>
                    </select>
                </label>
                <label>"Layer "
                    <select class="map-layer" on:change=move |ev| set_layer.set(event_target_value(&ev).parse().ok())>
                        <option value="all">"all (sum)"</option>
                        {move || (0..shape().0).map(|i| view! { <option value=i.to_string()>{format!("layer {}", i + 1)}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Head "
                    <select class="map-head" on:change=move |ev| set_head.set(event_target_value(&ev).parse().ok())>
                        <option value="all">"all (sum)"</option>
                        {move || (0..shape().1).map(|i| view! { <option value=i.to_string()>{format!("head {}", i + 1)}</option> }).collect_view()}
                    </select>
                </label>
                <label><input type="checkbox" class="map-normalized" on:change=move |ev| set_normalized.set(event_target_checked(&ev)) />" row-normalised"</label>
                <label title="shades run up to the largest pair of two different fields; a field with itself may lie beyond">
                    <input type="checkbox" class="map-pairs-scale" prop:checked=pairs_scale on:change=move |ev| set_pairs_scale.set(event_target_checked(&ev)) />" scale to the pairs"</label>
            </div>
            {body}
        </div>
    }
}
