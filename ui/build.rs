//! Compiles the .slint sources. Debug info is always on: the headless tests find elements by
//! accessible label, which needs it (and costs little). Fonts are embedded, so a kiosk without
//! system fonts still renders Cyrillic.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("lang")
        // Our .po files carry no context: a string means the same on every screen.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .embed_resources(slint_build::EmbedResourcesKind::EmbedFiles);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("the .slint sources compile");
}
