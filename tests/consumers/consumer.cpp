// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C++ twin of consumer.c, built as C++17 with -Wpedantic: the header must be usable from
// C++ (extern "C", no C-only constructs outside PIDTUPLE_OPTS()), and PIDTUPLE_OPTS_INIT() has
// its C++ form.
#include <pidtuple.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

struct tuple_deleter {
	void operator()(struct pidtuple *t) const { pidtuple_free(t); }
};
using tuple_ptr = std::unique_ptr<struct pidtuple, tuple_deleter>;

} // namespace

int main()
{
	const std::string text = "4242/17/1";
	struct pidtuple *raw = nullptr;
	int ret = pidtuple_parse(text.c_str(), &raw, nullptr);
	if (ret < 0) {
		std::fprintf(stderr, "pidtuple_parse: %s\n", pidtuple_strerror(ret));
		return 1;
	}
	tuple_ptr t(raw);

	ret = pidtuple_format(t.get(), nullptr, 0);
	if (ret < 0) {
		std::fprintf(stderr, "pidtuple_format: %s\n", pidtuple_strerror(ret));
		return 1;
	}
	std::vector<char> buf(static_cast<size_t>(ret) + 1);
	pidtuple_format(t.get(), buf.data(), buf.size());
	const std::string back(buf.data());

	std::vector<pid_t> inner(PIDTUPLE_MAX_LEVELS);
	int n = pidtuple_to_inner(t.get(), inner.data(), inner.size());
	if (back != text || n != 3 || inner[0] != 1 || inner[1] != 17 || inner[2] != 4242) {
		std::fprintf(stderr, "round trip of %s gave '%s' (%d levels)\n", text.c_str(),
			     back.c_str(), n);
		return 1;
	}

	// The C++ form of PIDTUPLE_OPTS_INIT(): a zeroed struct with sz set; members after.
	pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
	pidtuple_fork_opts opts = PIDTUPLE_OPTS_INIT(pidtuple_fork_opts);
	opts.flags = 1ull << 63; // unknown: refused with rule "flags", not "options"
	opts.diag = &diag;
	ret = pidtuple_check(t.get(), &opts, &diag);
	if (ret != -EINVAL || diag.rule != PIDTUPLE_RULE_FLAGS) {
		std::fprintf(stderr, "pidtuple_check with an unknown flag: %d, rule %s: %s\n", ret,
			     pidtuple_rule_name(diag.rule), diag.message);
		return 1;
	}

	const std::string hdr = std::to_string(PIDTUPLE_VERSION_MAJOR) + "." +
				std::to_string(PIDTUPLE_VERSION_MINOR) + "." +
				std::to_string(PIDTUPLE_VERSION_PATCH);
	if (hdr != pidtuple_version_string()) {
		std::fprintf(stderr, "header %s, library %s\n", hdr.c_str(),
			     pidtuple_version_string());
		return 1;
	}
	std::printf("c++ consumer: %s, libpidtuple %s\n", back.c_str(), pidtuple_version_string());
	return 0;
}
