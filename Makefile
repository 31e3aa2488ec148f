# Infomat: the README's commands. Each target installs the Debian packages it needs first.
#   make demo   run the kiosk on embedded defaults (headless when there is no display)
#   make test   the whole test suite (what CI runs, with fmt and clippy)
#   make bench  every benchmark, one table; docs/PERFORMANCE.md holds the latest run
#   make deb    the Debian package (cargo-deb) in target/debian/, contents listed
#   make fuzz   every fuzz target for FUZZ_SECONDS (default 60) each; CI runs it for 5
#   make soak   10,000 scripted patient sessions against central and the virtual devices

CARGO ?= cargo
# Where cargo builds: CARGO_TARGET_DIR when set (a shared cache), else ./target.
TARGET := $(or $(CARGO_TARGET_DIR),target)
# Build and run-time packages, by what needs them. Keep this list in step with docs/OPERATIONS.md.
DEPS_BUILD := pkg-config libusb-1.0-0-dev libfontconfig1-dev fonts-dejavu-core
# The central service's suite runs a second time against a throwaway PostgreSQL; the printer
# interop check makes a Python venv for zxing-cpp.
DEPS_TEST := postgresql python3-venv
# The screen session as the units run it: cage under headless wlroots, grim for frames
# (Debian's cage needs xwayland even for Wayland clients).
DEPS_SESSION := cage xwayland grim curl procps
# The `linuxkms` feature (kiosk straight on DRM/KMS): libinput, xkbcommon, udev.
DEPS_KMS := libinput-dev libxkbcommon-dev libudev-dev
# The staff console's browser test drives headless Chromium through chromedriver (WebDriver).
DEPS_BROWSER := chromium chromium-driver
# The Debian package: dpkg-shlibdeps finds the shared libraries the binaries link.
DEPS_DEB := dpkg-dev
# libFuzzer is C++, built by libfuzzer-sys.
DEPS_FUZZ := g++
# The windowed demo loads X11 at run time (winit); nothing is needed without a display.
DEPS_DEMO := libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
DEPS := $(DEPS_BUILD)

.PHONY: all deps demo test bench deb fuzz soak lint fmt clean

all: test

deps:
	@scripts/ensure-deps.sh $(DEPS)

demo: deps
	@scripts/ensure-deps.sh $(DEPS_DEMO)
	$(CARGO) build --release -p kiosk -p infomat-dev
	$(TARGET)/release/infomat-dev demo $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--headless)

test: deps
	@scripts/ensure-deps.sh $(DEPS_TEST) $(DEPS_DEB) $(DEPS_SESSION) $(DEPS_KMS) $(DEPS_BROWSER)
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	scripts/test-pg.sh
	scripts/test-interop.sh
	scripts/verify-units.sh
	scripts/watchdog-systemd.sh
	scripts/test-deb.sh
	$(CARGO) check -p kiosk --features linuxkms

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: deps
	@scripts/ensure-deps.sh xvfb $(DEPS_DEMO) $(DEPS_TEST)
	@scripts/bench.sh

soak: deps
	$(CARGO) build --release -p infomat-dev -p central
	$(TARGET)/release/infomat-dev soak --sessions 10000

fuzz: deps
	@scripts/ensure-deps.sh $(DEPS_FUZZ)
	@scripts/fuzz.sh

deb: deps
	@scripts/ensure-deps.sh $(DEPS_DEB) $(if $(findstring linuxkms,$(FEATURES)),$(DEPS_KMS))
	@scripts/deb.sh

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf demo-out
