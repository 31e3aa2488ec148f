//! Which texts on a window do not fit their boxes: clipped, elided, spilling out of a button or
//! off the screen. Measured with Slint's own text metrics (the same layout the renderer draws),
//! so a clinic name in a long official form or a large-text label is caught before a patient
//! sees half of it.
//!
//! Slint keeps its item tree and text measurement in `i-slint-core`, pinned with `slint`: this
//! module walks the items of the shown component and asks each text how large it wants to be.

use i_slint_core::item_tree::{ItemRc, ParentItemTraversalMode};
use i_slint_core::items::{ComplexText, Flickable, Item, SimpleText, TextOverflow, TextWrap};
use i_slint_core::layout::{LayoutInfo, Orientation};
use i_slint_core::window::{WindowAdapterRc, WindowInner};

/// Slack for sub-pixel layout rounding.
const SLACK: f32 = 1.0;

/// A text that does not fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    pub text: String,
    /// What is wrong, in a few words.
    pub why: &'static str,
    /// The box it has, and the size it needs (logical pixels).
    pub have: (f32, f32),
    pub need: (f32, f32),
    /// Its top-left corner on the window.
    pub at: (f32, f32),
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {}: box {:.0}x{:.0} at ({:.0},{:.0}), needs {:.0}x{:.0}",
            self.text, self.why, self.have.0, self.have.1, self.at.0, self.at.1, self.need.0, self.need.1
        )
    }
}

/// What [`inspect`] found on a window.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Visible, non-empty texts measured.
    pub texts: usize,
    pub misfits: Vec<Misfit>,
    /// Every visible button outside a scrolled list: label and rectangle on the window.
    buttons: Vec<(String, [f32; 4])>,
}

/// Every visible text on `window`, measured; those that do not fit, in tree order. With
/// `overlaps`, also buttons that overlap one another (a screen whose content outgrew its area
/// slides under the buttons below it); off when a dialog lies over the page on purpose.
pub fn inspect(window: &slint::Window, overlaps: bool) -> Report {
    let inner = WindowInner::from_pub(window);
    // `if` and `for` build their items when drawn: build them for what the adapters say now.
    inner.ensure_tree_instantiated();
    let mut report = Report::default();
    let Some(tree) = inner.try_component() else { return report };
    let adapter = inner.window_adapter();
    let size = window.size().to_logical(window.scale_factor());
    visit(&ItemRc::new_root(tree), &adapter, (size.width, size.height), &mut report);
    if overlaps {
        let b = std::mem::take(&mut report.buttons);
        for (i, (la, a)) in b.iter().enumerate() {
            for (lb, r) in &b[i + 1..] {
                let inside = |p: &[f32; 4], q: &[f32; 4]| {
                    p[0] >= q[0] - SLACK
                        && p[1] >= q[1] - SLACK
                        && p[2] <= q[2] + SLACK
                        && p[3] <= q[3] + SLACK
                };
                let (w, h) = (a[2].min(r[2]) - a[0].max(r[0]), a[3].min(r[3]) - a[1].max(r[1]));
                if w > SLACK && h > SLACK && !inside(a, r) && !inside(r, a) {
                    report.misfits.push(Misfit {
                        text: format!("button {la} / {lb}"),
                        why: "overlap",
                        have: (a[2] - a[0], a[3] - a[1]),
                        need: (w, h),
                        at: (a[0], a[1]),
                    });
                }
            }
        }
    }
    report
}

fn visit(item: &ItemRc, adapter: &WindowAdapterRc, window: (f32, f32), out: &mut Report) {
    check(item, adapter, window, out);
    check_button(item, window, out);
    let mut child = item.first_child();
    while let Some(c) = child {
        visit(&c, adapter, window, out);
        child = c.next_sibling();
    }
}

/// The text's string, wrapping and overflow, and its layout info along both axes.
fn measure(
    item: &ItemRc,
    adapter: &WindowAdapterRc,
    width: f32,
) -> Option<(String, TextWrap, LayoutInfo, LayoutInfo)> {
    if let Some(t) = item.downcast::<ComplexText>() {
        let t = t.as_pin_ref();
        let h = t.layout_info(Orientation::Horizontal, -1.0, adapter, item);
        let v = t.layout_info(Orientation::Vertical, width, adapter, item);
        // Elided text is cut text: treat it as no-wrap that must fit whole.
        let wrap = if t.overflow() == TextOverflow::Elide { TextWrap::NoWrap } else { t.wrap() };
        return Some((t.text().to_string(), wrap, h, v));
    }
    if let Some(t) = item.downcast::<SimpleText>() {
        let t = t.as_pin_ref();
        let h = t.layout_info(Orientation::Horizontal, -1.0, adapter, item);
        let v = t.layout_info(Orientation::Vertical, width, adapter, item);
        return Some((t.text().to_string(), TextWrap::NoWrap, h, v));
    }
    None
}

fn check(item: &ItemRc, adapter: &WindowAdapterRc, window: (f32, f32), report: &mut Report) {
    let g = item.geometry();
    let (w, h) = (g.size.width, g.size.height);
    let Some((text, wrap, hi, vi)) = measure(item, adapter, w) else { return };
    if text.trim().is_empty() || !item.is_visible() {
        return;
    }
    report.texts += 1;
    let pos = item.map_to_window(g.origin);
    let out = &mut report.misfits;
    let mut bad = |why, need: (f32, f32)| {
        out.push(Misfit { text: text.clone(), why, have: (w, h), need, at: (pos.x, pos.y) })
    };
    let need_w = match wrap {
        TextWrap::NoWrap => hi.preferred,
        // Wrapping breaks between words; the longest word must still fit.
        _ => hi.min,
    };
    if need_w > w + SLACK {
        bad(
            if wrap == TextWrap::NoWrap { "is cut at the side" } else { "has a word wider than its box" },
            (need_w, vi.preferred),
        );
    } else if vi.preferred > h + SLACK {
        bad("is cut at the bottom", (w, vi.preferred));
    }
    // A list scrolls: what is below its fold is not cut, only further down.
    if !in_flickable(item) {
        let (ww, wh) = window;
        if pos.x < -SLACK || pos.y < -SLACK || pos.x + w > ww + SLACK || pos.y + h > wh + SLACK {
            bad("runs off the screen", (w, h));
        }
    }
}

/// A button must be whole on the screen (outside a scrolled list): a half-visible one is a
/// layout squeezed past its minimum.
fn check_button(item: &ItemRc, window: (f32, f32), report: &mut Report) {
    use i_slint_core::items::AccessibleRole;
    if item.accessible_role() != AccessibleRole::Button || !item.is_visible() || in_flickable(item) {
        return;
    }
    let g = item.geometry();
    let pos = item.map_to_window(g.origin);
    let (w, h) = (g.size.width, g.size.height);
    let label = item
        .accessible_string_property(i_slint_core::accessibility::AccessibleStringProperty::Label)
        .unwrap_or_default();
    report.buttons.push((label.to_string(), [pos.x, pos.y, pos.x + w, pos.y + h]));
    if pos.x < -SLACK || pos.y < -SLACK || pos.x + w > window.0 + SLACK || pos.y + h > window.1 + SLACK {
        report.misfits.push(Misfit {
            text: format!("button {label}"),
            why: "runs off the screen",
            have: (w, h),
            need: (w, h),
            at: (pos.x, pos.y),
        });
    }
}

fn in_flickable(item: &ItemRc) -> bool {
    let mut cur = item.parent_item(ParentItemTraversalMode::FindAllParents);
    while let Some(p) = cur {
        if p.downcast::<Flickable>().is_some() {
            return true;
        }
        cur = p.parent_item(ParentItemTraversalMode::FindAllParents);
    }
    false
}
