//! Small SVG line charts for the live training curves.

use leptos::prelude::*;

/// One line: a name, a CSS colour and (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 420.0;
const H: f64 = 180.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 24.0;
const PAD_T: f64 = 10.0;
const PAD_R: f64 = 10.0;

fn bounds(series: &[Series]) -> Option<(f64, f64, f64, f64)> {
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    let mut any = false;
    for &(x, y) in pts {
        any = true;
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !any {
        return None;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 - y0 < 1e-9 {
        y0 -= 0.01;
        y1 += 0.01;
    }
    let margin = (y1 - y0) * 0.05;
    Some((x0, x1, y0 - margin, y1 + margin))
}

/// A chart of `series` against a shared x axis labelled `x_label`; `id` names it for tests.
#[component]
pub fn LineChart(
    id: &'static str,
    title: &'static str,
    x_label: &'static str,
    series: Signal<Vec<Series>>,
) -> impl IntoView {
    let body = move || {
        let series = series.get();
        let Some((x0, x1, y0, y1)) = bounds(&series) else {
            return view! {
                <text x={W / 2.0} y={H / 2.0} text-anchor="middle" class="chart-empty">"waiting for data"</text>
            }
            .into_any();
        };
        let sx = move |x: f64| PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R);
        let sy = move |y: f64| PAD_T + (1.0 - (y - y0) / (y1 - y0)) * (H - PAD_T - PAD_B);
        let lines = series
            .iter()
            .map(|s| {
                let d = s
                    .points
                    .iter()
                    .filter(|p| p.1.is_finite())
                    .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let last = s
                    .points
                    .last()
                    .map(|p| format!("{:.4}", p.1))
                    .unwrap_or_default();
                view! {
                    <polyline points=d fill="none" stroke=s.color stroke-width="2"
                        data-series=s.name.clone() data-last=last />
                }
            })
            .collect_view();
        view! {
            <line x1=PAD_L y1={H - PAD_B} x2={W - PAD_R} y2={H - PAD_B} class="axis" />
            <line x1=PAD_L y1=PAD_T x2=PAD_L y2={H - PAD_B} class="axis" />
            <text x={PAD_L - 4.0} y={PAD_T + 8.0} text-anchor="end" class="tick">{format!("{y1:.3}")}</text>
            <text x={PAD_L - 4.0} y={H - PAD_B} text-anchor="end" class="tick">{format!("{y0:.3}")}</text>
            <text x=PAD_L y={H - 6.0} class="tick">{format!("{x0:.0}")}</text>
            <text x={W - PAD_R} y={H - 6.0} text-anchor="end" class="tick">{format!("{x1:.0} {x_label}")}</text>
            {lines}
        }
        .into_any()
    };
    // Above the plot, not in it: no line ever runs under a name.
    let legend = move || {
        series
            .get()
            .into_iter()
            .map(|s| {
                let last = s
                    .points
                    .last()
                    .map(|p| format!(" {:.4}", p.1))
                    .unwrap_or_default();
                view! { <li style=format!("color: {}", s.color)>{format!("{}{last}", s.name)}</li> }
            })
            .collect_view()
    };
    view! {
        <figure class="chart" id=id>
            <figcaption>{title}</figcaption>
            <ul class="legend">{legend}</ul>
            <svg viewBox={format!("0 0 {W} {H}")} width=W height=H role="img" aria-label=title>
                {body}
            </svg>
        </figure>
    }
}
