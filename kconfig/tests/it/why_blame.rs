//! `why` and `blame` on the real kernel tree (`MINILINUX_KERNEL_SRC`), for versatilepb's
//! `versatile_defconfig` on ARM: snapshots of what users read. Each test prints a
//! `skipped:` line and passes without the variable.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use expect_test::{expect, Expect};
use kconfig::{kernel_environment, Config, Evaluation, Fragment, Kconfig, ShellCache};

fn kernel_src(test: &str) -> Option<PathBuf> {
    match std::env::var_os("MINILINUX_KERNEL_SRC") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            println!("skipped: {test}: set MINILINUX_KERNEL_SRC to a kernel source tree to run it");
            None
        }
    }
}

/// The ARM tree, loaded once (the compiler is not asked: its probes do not change what
/// these symbols depend on, and the snapshots must not depend on the host).
fn arm(src: &Path) -> &'static Kconfig {
    static TREE: OnceLock<Kconfig> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut probes = ShellCache::new(&Default::default());
        let env = kernel_environment(src, "arm", "arm-linux-gnueabi-", None, &mut probes);
        let mut shell = ShellCache::new(&env);
        Kconfig::load(src, Path::new("Kconfig"), &env, &mut shell).unwrap()
    })
}

fn versatile(src: &Path) -> String {
    std::fs::read_to_string(src.join("arch/arm/configs/versatile_defconfig")).unwrap()
}

fn check_why(symbol: &str, requested: Option<&str>, extra: &str, expect: Expect) {
    let Some(src) = kernel_src("why") else {
        return;
    };
    let defconfig = versatile(&src);
    let fragment = Config::parse(extra).unwrap();
    let base = Config::parse(&defconfig).unwrap();
    let input = format!("{defconfig}{extra}");
    let mut e = Evaluation::read(arm(&src), &input);
    let sources = [
        Fragment {
            name: "arch/arm/configs/versatile_defconfig",
            config: &base,
        },
        Fragment {
            name: "fragment.config",
            config: &fragment,
        },
    ];
    let why = e.why(symbol, requested, &sources).expect("a known symbol");
    expect.assert_eq(&why.to_string());
}

#[test]
fn why_drm_i915_cannot_be_built_on_arm() {
    check_why(
        "DRM_I915",
        None,
        "CONFIG_DRM_I915=y\n",
        expect![[r#"
        CONFIG_DRM_I915=n  (no default applies (defined at drivers/gpu/drm/i915/Kconfig:2))
        requested y cannot hold:
          CONFIG_DRM_I915=n (drivers/gpu/drm/i915/Kconfig:2): not visible
            drivers/gpu/drm/i915/Kconfig:3: depends on HAS_IOMEM && DRM && X86 && PCI && !PREEMPT_RT [= n]
              CONFIG_X86 is not defined in this tree
              CONFIG_PCI=n (drivers/pci/Kconfig:16): can be set
        no assignment of user-settable symbols was found that makes it hold
    "#]],
    );
}

#[test]
fn why_a_selected_symbol_cannot_be_turned_off() {
    check_why(
        "ARM_AMBA",
        Some("n"),
        "",
        expect![[r#"
        CONFIG_ARM_AMBA=y  (selected by CONFIG_ARCH_VERSATILE at arch/arm/mach-versatile/Kconfig:6)
        requested n cannot hold:
          CONFIG_ARM_AMBA=y (drivers/amba/Kconfig:2): selected
            arch/arm/mach-versatile/Kconfig:6: select by CONFIG_ARCH_VERSATILE=y (arch/arm/mach-versatile/Kconfig:2)
              CONFIG_ARCH_VERSATILE=y (arch/arm/mach-versatile/Kconfig:2): can be set
        it holds with (checked by evaluating it):
          # CONFIG_ARCH_VERSATILE is not set
    "#]],
    );
}

#[test]
fn why_a_choice_member_is_off_and_how_to_pick_it() {
    check_why(
        "KERNEL_XZ",
        Some("y"),
        "",
        expect![[r#"
        CONFIG_KERNEL_XZ=n  (choice at init/Kconfig:254 selected CONFIG_KERNEL_GZIP (its default at init/Kconfig:256))
        requested y cannot hold:
          CONFIG_KERNEL_XZ=n (init/Kconfig:301): its choice selected CONFIG_KERNEL_GZIP=y (init/Kconfig:276)
        it holds with (checked by evaluating it):
          CONFIG_KERNEL_XZ=y
    "#]],
    );
}

#[test]
fn blame_names_the_origin_of_every_line() {
    let Some(src) = kernel_src("blame_names_the_origin_of_every_line") else {
        return;
    };
    let defconfig = versatile(&src);
    let base = Config::parse(&defconfig).unwrap();
    let mut e = Evaluation::read(arm(&src), &defconfig);
    let blame = e.blame(&[Fragment {
        name: "arch/arm/configs/versatile_defconfig",
        config: &base,
    }]);
    let text = blame.to_string();
    let excerpt: String = text
        .lines()
        .filter(|l| {
            [
                "CONFIG_ARM_AMBA=",
                "CONFIG_AEABI=",
                "CONFIG_CMDLINE=",
                "CONFIG_HZ=",
                "CONFIG_VFP=",
            ]
            .iter()
            .any(|s| l.starts_with(s))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    expect![[r#"
        CONFIG_HZ=100                                     # default at arch/arm/Kconfig:1213
        CONFIG_AEABI=y                                    # set in arch/arm/configs/versatile_defconfig:9
        CONFIG_CMDLINE="root=1f03 mem=32M"                # set in arch/arm/configs/versatile_defconfig:11
        CONFIG_VFP=y                                      # set in arch/arm/configs/versatile_defconfig:13
        CONFIG_ARM_AMBA=y                                 # selected by CONFIG_ARCH_VERSATILE at arch/arm/mach-versatile/Kconfig:6
    "#]].assert_eq(&excerpt);
}

#[test]
fn blame_over_a_defconfig_expansion_names_what_filled_each_value_in() {
    let Some(src) = kernel_src("blame_over_a_defconfig_expansion_names_what_filled_each_value_in")
    else {
        return;
    };
    let defconfig = versatile(&src);
    let tree = arm(&src);
    let expanded = Evaluation::defconfig(tree, &defconfig);
    let fragment_text = "CONFIG_TMPFS=y\n# CONFIG_VT is not set\n";
    let fragment = Config::parse(fragment_text).unwrap();
    let merged = kconfig::merge(
        &Config::parse(&expanded).unwrap(),
        &[Fragment {
            name: "fragment.config",
            config: &fragment,
        }],
        kconfig::MergeOptions::default(),
    );
    let base_file = Config::parse(&defconfig).unwrap();
    let mut base = Evaluation::defconfig_expanded(tree, &defconfig);
    let mut e = Evaluation::read(tree, &merged.config.to_string());
    let blame = e.blame_over(
        &[
            Fragment {
                name: "arch/arm/configs/versatile_defconfig",
                config: &base_file,
            },
            Fragment {
                name: "fragment.config",
                config: &fragment,
            },
        ],
        Some(&mut base),
    );
    let excerpt: String = blame
        .to_string()
        .lines()
        .filter(|l| {
            [
                "CONFIG_KERNEL_GZIP=",
                "CONFIG_HZ=",
                "CONFIG_TMPFS=",
                "# CONFIG_VT ",
                "CONFIG_ARM_AMBA=",
            ]
            .iter()
            .any(|s| l.starts_with(s))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    expect![[r#"
        CONFIG_KERNEL_GZIP=y                              # choice at init/Kconfig:254 selected CONFIG_KERNEL_GZIP (its default at init/Kconfig:256)
        CONFIG_HZ=100                                     # default at arch/arm/Kconfig:1213
        CONFIG_ARM_AMBA=y                                 # selected by CONFIG_ARCH_VERSATILE at arch/arm/mach-versatile/Kconfig:6
        CONFIG_TMPFS=y                                    # set in fragment.config:1
    "#]].assert_eq(&excerpt);
}
