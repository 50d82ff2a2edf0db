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
        let max = matrix.values.iter().cloned().fold(0.0_f64, f64::max);
        let hottest = matrix.top_off_diagonal();
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
                        view! {
                            <td class="cell" class:hottest=hot
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
        view! {
            {caption}
            <table class="heatmap">
                <thead><tr><th></th>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
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
            </div>
            {body}
        </div>
    }
}
