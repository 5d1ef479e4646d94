//! /admin: what is happening, at a glance. Sign-ups and sign-ins over the chosen
//! range as charts drawn on the server (SVG, so they are there before WASM loads,
//! each with a table for screen readers, coloured by the theme's variables), the
//! accounts by role and state, active sessions, the mail outbox and the newest audit
//! events. Once hydrated it refreshes itself every 30 seconds. The range is a plain
//! link (`?range=24h|7d|30d`), so it works without JavaScript too.

use super::{AdminNav, AdminOnly};
use crate::components::form::LoadError;
use crate::paths;
use crate::server_fns::stats::dashboard_stats;
use crate::stats::{AdminStats, CountBucket, SignInBucket, StatsRange};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// How often a hydrated dashboard asks again.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

#[component]
pub fn AdminDashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <Meta name="description" content="Roster administration: sign-ups, sign-ins, sessions and accounts at a glance." />
        <AdminOnly content=|_| view! { <Dashboard /> } />
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let range =
        Memo::new(move |_| query.with(|q| q.get("range").and_then(|r| StatsRange::parse(&r)).unwrap_or_default()));
    let tick = RwSignal::new(0u32);
    // Live once hydrated: the server renders the figures once.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    let stats = Resource::new(
        move || (range.get(), tick.get()),
        |(range, _)| dashboard_stats(range.as_str().to_owned()),
    );
    view! {
        <AdminNav current=paths::ADMIN />
        <div class="dashboard-head">
            <h1>"Dashboard"</h1>
            <nav aria-label="Range" class="range-picker">
                {StatsRange::ALL.into_iter().map(|r| {
                    let here = move || range.get() == r;
                    view! {
                        <a href=format!("{}?range={}", paths::ADMIN, r.as_str())
                            aria-current=move || here().then_some("page") class:current=here>{r.label()}</a>
                    }
                }).collect_view()}
            </nav>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading the figures…"</p> }>
            {move || Suspend::new(async move {
                match stats.await {
                    Ok(stats) => view! { <Figures stats /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Figures(stats: AdminStats) -> impl IntoView {
    let (ok, failed) = stats.sign_ins_total();
    let accounts = stats.accounts.clone();
    let sessions = stats
        .active_sessions
        .map(|n| n.to_string())
        .unwrap_or_else(|| "not counted".into());
    let label = stats.range.label();
    let updated = stats.generated_at.format("%H:%M:%S UTC").to_string();
    view! {
        <div class="tiles" data-testid="dashboard-tiles">
            <Tile label="Accounts" value=accounts.total.to_string()
                detail=format!("{} admins, {} users", accounts.admins, accounts.users) />
            <Tile label="Active sessions" value=sessions detail="signed in now".to_string() />
            <Tile label="Sign-ups" value=stats.signups_total().to_string() detail=label.to_string() />
            <Tile label="Sign-ins" value=ok.to_string() detail=format!("{failed} refused, {label}") />
            <Tile label="Waiting for approval" value=accounts.pending_approval.to_string()
                detail=format!("{} disabled, {} unconfirmed", accounts.disabled, accounts.unverified) />
            <Tile label="Mail waiting" value=stats.mail.pending.to_string()
                detail=format!("{} given up, {} sent", stats.mail.failed, stats.mail.sent) />
        </div>
        <div class="charts">
            <SignupChart buckets=stats.signups.clone() range=stats.range />
            <SignInChart buckets=stats.sign_ins.clone() range=stats.range />
        </div>
        <section class="card card-wide" aria-labelledby="events-title">
            <h2 id="events-title">"Newest security events"</h2>
            <ul class="event-list" data-testid="recent-events">
                {stats.recent_events.into_iter().map(|event| {
                    let at = event.at.format("%Y-%m-%d %H:%M").to_string();
                    let who = event.target_email.or(event.actor_email).unwrap_or_default();
                    view! {
                        <li>
                            <time datetime=event.at.to_rfc3339()>{at}</time>
                            " " <strong>{event.action.replace('_', " ")}</strong>
                            " " {who}
                            {event.detail.map(|d| view! { <span class="muted">" — " {d}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p><a href=paths::ADMIN_AUDIT>"The whole audit log →"</a></p>
        </section>
        <p class="muted" role="status">"Updated " {updated} ". This page refreshes itself every 30 seconds."</p>
    }
}

#[component]
fn Tile(label: &'static str, value: String, detail: String) -> impl IntoView {
    view! {
        <div class="tile">
            <p class="tile-label">{label}</p>
            <p class="tile-value">{value}</p>
            <p class="tile-detail muted">{detail}</p>
        </div>
    }
}

/// Chart geometry, in SVG user units (the SVG scales to its box).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 24.0;

fn bar_height(value: u64, max: u64) -> f64 {
    if max == 0 {
        0.0
    } else {
        (HEIGHT - TOP - BOTTOM) * value as f64 / max as f64
    }
}

fn bucket_label(range: StatsRange, start: chrono::DateTime<chrono::Utc>) -> String {
    match range {
        StatsRange::Day => start.format("%H:00").to_string(),
        _ => start.format("%b %-d").to_string(),
    }
}

#[component]
fn SignupChart(buckets: Vec<CountBucket>, range: StatsRange) -> impl IntoView {
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let width = WIDTH / buckets.len().max(1) as f64;
    let per = if range == StatsRange::Day { "hour" } else { "day" };
    let first = buckets
        .first()
        .map(|b| bucket_label(range, b.start))
        .unwrap_or_default();
    let last = buckets.last().map(|b| bucket_label(range, b.start)).unwrap_or_default();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let h = bar_height(b.count, max);
            view! {
                <rect class="bar" x=format!("{:.1}", i as f64 * width + 1.0) y=format!("{:.1}", HEIGHT - BOTTOM - h)
                    width=format!("{:.1}", (width - 2.0).max(1.0)) height=format!("{h:.1}")>
                    <title>{format!("{}: {}", bucket_label(range, b.start), b.count)}</title>
                </rect>
            }
        })
        .collect_view();
    let rows = buckets
        .iter()
        .map(|b| view! { <tr><th scope="row">{bucket_label(range, b.start)}</th><td>{b.count}</td></tr> })
        .collect_view();
    view! {
        <figure class="card chart" data-testid="signups-chart">
            <figcaption id="signups-title">{format!("Sign-ups per {per}, {}", range.label())}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="signups-title signups-desc">
                <desc id="signups-desc">{format!("Bar chart; the highest {per} had {max}. The table below has every value.")}</desc>
                <line class="axis" x1="0" x2=WIDTH.to_string() y1=(HEIGHT - BOTTOM).to_string() y2=(HEIGHT - BOTTOM).to_string() />
                {bars}
                <text class="chart-text" x="0" y="12">{format!("max {max}")}</text>
                <text class="chart-text" x="0" y=(HEIGHT - 6.0).to_string()>{first}</text>
                <text class="chart-text" x=WIDTH.to_string() y=(HEIGHT - 6.0).to_string() text-anchor="end">{last}</text>
            </svg>
            <details>
                <summary>"As a table"</summary>
                <table class="table">
                    <thead><tr><th scope="col">{if per == "hour" { "Hour (UTC)" } else { "Day (UTC)" }}</th><th scope="col">"Sign-ups"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

#[component]
fn SignInChart(buckets: Vec<SignInBucket>, range: StatsRange) -> impl IntoView {
    let max = buckets.iter().map(|b| b.succeeded + b.failed).max().unwrap_or(0);
    let width = WIDTH / buckets.len().max(1) as f64;
    let label = |b: &SignInBucket| b.start.format("%b %-d %H:00").to_string();
    let first = buckets.first().map(label).unwrap_or_default();
    let last = buckets.last().map(label).unwrap_or_default();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (ok, refused) = (bar_height(b.succeeded, max), bar_height(b.failed, max));
            let x = format!("{:.2}", i as f64 * width);
            let w = format!("{:.2}", (width - 0.5).max(0.5));
            view! {
                <g>
                    <title>{format!("{}: {} signed in, {} refused", label(b), b.succeeded, b.failed)}</title>
                    <rect class="bar" x=x.clone() y=format!("{:.1}", HEIGHT - BOTTOM - ok) width=w.clone() height=format!("{ok:.1}") />
                    <rect class="bar bar-failed" x=x y=format!("{:.1}", HEIGHT - BOTTOM - ok - refused) width=w height=format!("{refused:.1}") />
                </g>
            }
        })
        .collect_view();
    // Hours with any sign-in; a month of empty hours would make a table nobody reads.
    let rows = buckets
        .iter()
        .filter(|b| b.succeeded + b.failed > 0)
        .map(|b| view! { <tr><th scope="row">{label(b)}</th><td>{b.succeeded}</td><td>{b.failed}</td></tr> })
        .collect_view();
    view! {
        <figure class="card chart" data-testid="sign-ins-chart">
            <figcaption id="sign-ins-title">{format!("Sign-ins per hour, {}", range.label())}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="sign-ins-title sign-ins-desc">
                <desc id="sign-ins-desc">{format!("Stacked bars: sign-ins, and refused sign-ins on top; the busiest hour had {max}. The table below lists every hour with any.")}</desc>
                <line class="axis" x1="0" x2=WIDTH.to_string() y1=(HEIGHT - BOTTOM).to_string() y2=(HEIGHT - BOTTOM).to_string() />
                {bars}
                <text class="chart-text" x="0" y="12">{format!("max {max}")}</text>
                <text class="chart-text" x="0" y=(HEIGHT - 6.0).to_string()>{first}</text>
                <text class="chart-text" x=WIDTH.to_string() y=(HEIGHT - 6.0).to_string() text-anchor="end">{last}</text>
            </svg>
            <p class="legend"><span class="swatch"></span>" signed in "<span class="swatch swatch-failed"></span>" refused"</p>
            <details>
                <summary>"As a table"</summary>
                <table class="table">
                    <thead><tr><th scope="col">"Hour (UTC)"</th><th scope="col">"Signed in"</th><th scope="col">"Refused"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}
