//! Copies a [`View`] into the Slint adapters and turns adapter callbacks into inputs. The only
//! place that knows both the session's vocabulary and the screens' property names.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use ui::{
    AppAdapter, AttractAdapter, DayItem, InfoAdapter, KeypadAdapter, KioskWindow, ListAdapter, ListItem,
    MenuAdapter, ScheduleAdapter, ServiceAdapter, SlotItem,
};

use crate::session::{Action, Lang, ServiceCommand};
use crate::view::{Body, View};

/// What a tap means, before the runtime turns it into a session event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Action(Action),
    /// One of the Info screen's buttons (its meaning depends on the screen).
    InfoButton(usize),
    /// Demo shortcut: "scan" demo patient N.
    ScanDemo(usize),
}

fn s(x: &str) -> SharedString {
    SharedString::from(x)
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(v)))
}

/// Shows `v` (and the header's clinic and clock).
pub fn apply(w: &KioskWindow, v: &View, clinic: &str, clock: &str) {
    let app = w.global::<AppAdapter>();
    app.set_clinic(s(clinic));
    app.set_clock(s(clock));
    let lang = if v.lang == Lang::En { "en" } else { "ru" };
    if app.get_lang() != lang {
        ui::set_language(lang);
    }
    app.set_lang(s(lang));
    app.set_large_text(v.large_text);
    app.set_high_contrast(v.high_contrast);
    app.set_busy(v.busy);
    app.set_wait_what(s(&v.wait.what));
    app.set_wait_how_long(s(&v.wait.how_long));
    app.set_wait_cancel(s(&v.wait.cancel));
    let help = v.help.clone().unwrap_or_default();
    app.set_help_shown(v.help.is_some());
    app.set_help_title(s(&help.title));
    app.set_help_lines(model(help.lines.iter().map(|x| s(x)).collect()));
    app.set_help_close(s(&help.close));
    app.set_show_back(v.show_back);
    app.set_show_exit(v.show_exit);
    app.set_idle_warning(v.idle_seconds_left.is_some());
    app.set_idle_seconds(v.idle_seconds_left.unwrap_or(0) as i32);
    let screen = match &v.body {
        Body::Attract { card_reader } => {
            w.global::<AttractAdapter>().set_card_reader(*card_reader);
            "attract"
        }
        Body::Keypad { title, value, placeholder, error, ok_hint, next_enabled } => {
            let k = w.global::<KeypadAdapter>();
            k.set_title(s(title));
            k.set_value(s(value));
            k.set_placeholder(s(placeholder));
            k.set_error(s(error));
            k.set_ok_hint(s(ok_hint));
            k.set_next_enabled(*next_enabled);
            "keypad"
        }
        Body::Menu { greeting, offline_note } => {
            let m = w.global::<MenuAdapter>();
            m.set_greeting(s(greeting));
            m.set_offline(offline_note.is_some());
            m.set_offline_note(s(offline_note.as_deref().unwrap_or("")));
            "menu"
        }
        Body::List { title, lead, items, empty } => {
            let l = w.global::<ListAdapter>();
            l.set_title(s(title));
            l.set_lead_text(s(lead.as_ref().map_or("", |r| r.title.as_str())));
            l.set_lead_note(s(lead.as_ref().map_or("", |r| r.subtitle.as_str())));
            l.set_empty_text(s(empty));
            l.set_items(model(
                items
                    .iter()
                    .map(|r| ListItem {
                        title: s(&r.title),
                        subtitle: s(&r.subtitle),
                        note: s(&r.note),
                        enabled: r.enabled,
                        action: s(&r.action),
                    })
                    .collect(),
            ));
            "list"
        }
        Body::Schedule { title, days, slots, empty } => {
            let sc = w.global::<ScheduleAdapter>();
            sc.set_title(s(title));
            sc.set_empty_text(s(empty));
            sc.set_days(model(
                days.iter().map(|(label, sel)| DayItem { label: s(label), selected: *sel }).collect(),
            ));
            sc.set_slots(model(slots.iter().map(|(t, c)| SlotItem { time: s(t), cabinet: s(c) }).collect()));
            "schedule"
        }
        Body::Info { title, big, lines, status, warn, primary, secondary, tertiary } => {
            let i = w.global::<InfoAdapter>();
            i.set_title(s(title));
            i.set_big(s(big));
            i.set_lines(model(lines.iter().map(|x| s(x)).collect()));
            i.set_status(s(status));
            i.set_warn(*warn);
            i.set_primary_text(s(primary));
            i.set_secondary_text(s(secondary));
            i.set_tertiary_text(s(tertiary));
            "info"
        }
        Body::Service { lines } => {
            w.global::<ServiceAdapter>().set_lines(model(lines.iter().map(|x| s(x)).collect()));
            "service"
        }
    };
    app.set_screen(s(screen));
    clear_hidden(w, screen);
}

/// Empties the adapters of screens not shown: a hidden screen must not keep the previous
/// patient's name, number or appointments in memory.
fn clear_hidden(w: &KioskWindow, shown: &str) {
    if shown != "keypad" {
        let k = w.global::<KeypadAdapter>();
        k.set_value(s(""));
        k.set_error(s(""));
        k.set_ok_hint(s(""));
    }
    if shown != "menu" {
        let m = w.global::<MenuAdapter>();
        m.set_greeting(s(""));
        m.set_offline_note(s(""));
    }
    if shown != "list" {
        let l = w.global::<ListAdapter>();
        l.set_items(model(Vec::new()));
        l.set_lead_note(s(""));
    }
    if shown != "schedule" {
        let sc = w.global::<ScheduleAdapter>();
        sc.set_title(s(""));
        sc.set_days(model(Vec::new()));
        sc.set_slots(model(Vec::new()));
    }
    if shown != "info" {
        let i = w.global::<InfoAdapter>();
        i.set_title(s(""));
        i.set_big(s(""));
        i.set_lines(model(Vec::new()));
        i.set_status(s(""));
    }
    if shown != "service" {
        let sv = w.global::<ServiceAdapter>();
        sv.set_lines(model(Vec::new()));
        sv.set_status(model(Vec::new()));
    }
}

/// The service screen's live status block (devices, central, journal, version).
pub fn set_service_status(w: &KioskWindow, lines: &[String]) {
    w.global::<ServiceAdapter>().set_status(model(lines.iter().map(|l| s(l)).collect()));
}

/// Routes every adapter callback to `on`.
pub fn connect(w: &KioskWindow, on: Rc<dyn Fn(Input)>) {
    let act = |on: &Rc<dyn Fn(Input)>, a: Action| {
        let on = on.clone();
        move || on(Input::Action(a))
    };
    let app = w.global::<AppAdapter>();
    {
        let on = on.clone();
        app.on_set_language(move |l| {
            on(Input::Action(Action::SetLanguage(if l == "en" { Lang::En } else { Lang::Ru })))
        });
    }
    app.on_toggle_large_text(act(&on, Action::ToggleLargeText));
    app.on_toggle_contrast(act(&on, Action::ToggleContrast));
    app.on_call_staff(act(&on, Action::CallStaff));
    app.on_close_help(act(&on, Action::CloseHelp));
    // Abandoning a read is going back from the screen that waits for it.
    app.on_cancel_wait(act(&on, Action::Back));
    app.on_back(act(&on, Action::Back));
    app.on_exit(act(&on, Action::Exit));
    app.on_still_here(act(&on, Action::StillHere));
    {
        let on = on.clone();
        app.on_scan_demo(move |n| on(Input::ScanDemo(n.max(0) as usize)));
    }
    let at = w.global::<AttractAdapter>();
    at.on_manual_entry(act(&on, Action::ManualEntry));
    at.on_service_gesture(act(&on, Action::ServiceGesture));
    let k = w.global::<KeypadAdapter>();
    {
        let on = on.clone();
        k.on_digit(move |d| on(Input::Action(Action::Digit(d.clamp(0, 9) as u8))));
    }
    k.on_backspace(act(&on, Action::Backspace));
    k.on_clear(act(&on, Action::ClearEntry));
    k.on_next(act(&on, Action::Next));
    let m = w.global::<MenuAdapter>();
    m.on_walk_in(act(&on, Action::WalkIn));
    m.on_book(act(&on, Action::Book));
    m.on_appointments(act(&on, Action::MyAppointments));
    m.on_referrals(act(&on, Action::Referrals));
    {
        let on = on.clone();
        w.global::<ListAdapter>().on_choose(move |i| on(Input::Action(Action::Choose(i.max(0) as usize))));
    }
    w.global::<ListAdapter>().on_lead(act(&on, Action::AnyDoctor));
    {
        let on = on.clone();
        w.global::<ListAdapter>().on_act(move |i| on(Input::Action(Action::CancelAt(i.max(0) as usize))));
    }
    let sc = w.global::<ScheduleAdapter>();
    {
        let on = on.clone();
        sc.on_choose_day(move |i| on(Input::Action(Action::ChooseDay(i.max(0) as usize))));
    }
    {
        let on = on.clone();
        sc.on_choose_slot(move |i| on(Input::Action(Action::ChooseSlot(i.max(0) as usize))));
    }
    let i = w.global::<InfoAdapter>();
    for (n, set) in [(0usize, 0), (1, 1), (2, 2)] {
        let on = on.clone();
        let f = move || on(Input::InfoButton(n));
        match set {
            0 => i.on_primary(f),
            1 => i.on_secondary(f),
            _ => i.on_tertiary(f),
        }
    }
    {
        let on = on.clone();
        w.global::<ServiceAdapter>().on_command(move |c| {
            let cmd = match c.as_str() {
                "selftest" => ServiceCommand::SelfTest,
                "testpage" => ServiceCommand::TestPage,
                "reprint" => ServiceCommand::ReprintLast,
                "sync" => ServiceCommand::SyncJournal,
                _ => ServiceCommand::Restart,
            };
            on(Input::Action(Action::Service(cmd)))
        });
    }
}

/// Every text the adapters hold, shown or not (privacy checks: after a session ends none of
/// it may name the patient). Reads each string property and each row of each model.
pub fn every_text(w: &KioskWindow) -> Vec<String> {
    use slint::Model;
    let mut out: Vec<SharedString> = Vec::new();
    let app = w.global::<AppAdapter>();
    out.extend([app.get_clinic(), app.get_clock(), app.get_screen()]);
    let k = w.global::<KeypadAdapter>();
    out.extend([k.get_title(), k.get_value(), k.get_placeholder(), k.get_error(), k.get_ok_hint()]);
    let m = w.global::<MenuAdapter>();
    out.extend([m.get_greeting(), m.get_offline_note()]);
    let l = w.global::<ListAdapter>();
    out.extend([l.get_title(), l.get_empty_text(), l.get_lead_text(), l.get_lead_note()]);
    for r in l.get_items().iter() {
        out.extend([r.title, r.subtitle, r.note, r.action]);
    }
    let sc = w.global::<ScheduleAdapter>();
    out.extend([sc.get_title(), sc.get_empty_text()]);
    out.extend(sc.get_days().iter().map(|d| d.label));
    for sl in sc.get_slots().iter() {
        out.extend([sl.time, sl.cabinet]);
    }
    let i = w.global::<InfoAdapter>();
    out.extend([i.get_title(), i.get_big(), i.get_status()]);
    out.extend([i.get_primary_text(), i.get_secondary_text(), i.get_tertiary_text()]);
    out.extend(i.get_lines().iter());
    out.extend(w.global::<ServiceAdapter>().get_lines().iter());
    out.extend(w.global::<ServiceAdapter>().get_status().iter());
    out.into_iter().map(|s| s.to_string()).filter(|s| !s.is_empty()).collect()
}
