/*
 * A stand-in for a Linux kernel module: compiled with `gcc -c` it gives an
 * ELF relocatable object that kmod's depmod, modinfo and
 * `modprobe --dry-run` accept. It cannot be loaded into a kernel.
 *
 * Macros set on the command line (string macros need their quotes):
 *   FAKE_NAME      module name, e.g. "virtio_net" (required)
 *   FAKE_VERMAGIC  kernel release and flags, e.g. "6.1.0-57-cloud-amd64 SMP
 *                  preempt mod_unload modversions " (required)
 *   FAKE_DEPENDS   comma-separated module names for modinfo's depends= line
 *                  (default "")
 *   FAKE_ALIAS     one alias= entry, e.g. "virtio:d00000001v*" (optional)
 *   FAKE_EXPORT    identifier of a function this module exports (optional)
 *   FAKE_IMPORT    identifier of a function this module calls and does not
 *                  define (optional)
 *
 * depmod (kmod 30) finds a module's exports in the __ksymtab_strings section
 * when the symbol table has no __crc_ symbols, and its imports in the
 * undefined symbols of .symtab. A FAKE_IMPORT that matches another module's
 * FAKE_EXPORT therefore becomes a modules.dep line. modinfo's depends= line
 * is informational: depmod does not read it.
 */

#ifndef FAKE_NAME
#error "define FAKE_NAME, e.g. -DFAKE_NAME='\"virtio_net\"'"
#endif
#ifndef FAKE_VERMAGIC
#error "define FAKE_VERMAGIC, e.g. -DFAKE_VERMAGIC='\"6.1.0-57-amd64 SMP mod_unload \"'"
#endif
#ifndef FAKE_DEPENDS
#define FAKE_DEPENDS ""
#endif

#define FAKE_STRING_(x) #x
#define FAKE_STRING(x) FAKE_STRING_(x)
#define FAKE_SECTION(name) __attribute__((section(name), used, aligned(1)))

/* Each .modinfo entry is a NUL-terminated "key=value" string. */
static const char modinfo_license[] FAKE_SECTION(".modinfo") = "license=GPL";
static const char modinfo_description[] FAKE_SECTION(".modinfo") =
	"description=Test stand-in for " FAKE_NAME;
#ifdef FAKE_ALIAS
static const char modinfo_alias[] FAKE_SECTION(".modinfo") = "alias=" FAKE_ALIAS;
#endif
static const char modinfo_depends[] FAKE_SECTION(".modinfo") = "depends=" FAKE_DEPENDS;
static const char modinfo_intree[] FAKE_SECTION(".modinfo") = "intree=Y";
static const char modinfo_name[] FAKE_SECTION(".modinfo") = "name=" FAKE_NAME;
static const char modinfo_vermagic[] FAKE_SECTION(".modinfo") = "vermagic=" FAKE_VERMAGIC;

/*
 * The kernel's loader reads struct module from this section. This one has
 * the size of Linux 6.1's struct module on x86-64 (896 bytes) and the name
 * at its offset there (24, after the state and list fields). The rest is
 * zero, because kmod's tools do not read it.
 */
static const struct {
	char head[24];
	char name[56];
	char rest[816];
} this_module FAKE_SECTION(".gnu.linkonce.this_module") = { .name = FAKE_NAME };

#ifdef FAKE_IMPORT
extern int FAKE_IMPORT(void);
#endif

#ifdef FAKE_EXPORT
static const char ksymtab_string[] FAKE_SECTION("__ksymtab_strings") =
	FAKE_STRING(FAKE_EXPORT);

int FAKE_EXPORT(void)
{
	return 0;
}
#endif

int init_module(void)
{
#ifdef FAKE_IMPORT
	return FAKE_IMPORT();
#else
	return 0;
#endif
}

void cleanup_module(void)
{
}
