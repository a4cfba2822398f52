// Windows implementation of process.hpp. Inside the launcher all text is UTF-8 (std::string);
// only here is it converted to and from the wide (UTF-16) strings of the Windows API, so that user
// names and folders with non-ASCII characters survive end to end.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winsock2.h>

#include <cstdlib>
#include <system_error>

#include "os/process.hpp"

namespace fs = std::filesystem;

namespace alltalk::process {

namespace {

std::string narrow(const wchar_t* w, int len) {
    if (len == 0) {
        return {};
    }
    int n = ::WideCharToMultiByte(CP_UTF8, 0, w, len, nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, w, len, out.data(), n, nullptr, nullptr);
    return out;
}

std::wstring widen(const std::string& s) {
    if (s.empty()) {
        return {};
    }
    const int len = static_cast<int>(s.size());
    int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), len, nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, s.data(), len, out.data(), n);
    return out;
}

std::string last_error_text(DWORD code) {
    wchar_t* buf = nullptr;
    DWORD n = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
    std::string out = n ? narrow(buf, static_cast<int>(n)) : "error " + std::to_string(code);
    ::LocalFree(buf);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.')) {
        out.pop_back();
    }
    return out;
}

}  // namespace

fs::path self_exe() {
    std::wstring buf(MAX_PATH, L'\0');
    for (;;) {
        DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
        if (n == 0) {
            return {};
        }
        if (n < buf.size()) {
            buf.resize(n);
            return fs::path(buf);
        }
        buf.resize(buf.size() * 2);
    }
}

EnvMap environment() {
    EnvMap out;
    wchar_t* block = ::GetEnvironmentStringsW();
    for (const wchar_t* e = block; e && *e; e += std::wcslen(e) + 1) {
        // Entries such as "=C:=C:\dir" (per-drive folders) start with '=' and are not variables.
        const wchar_t* eq = std::wcschr(e + 1, L'=');
        if (e[0] != L'=' && eq) {
            out.emplace(narrow(e, static_cast<int>(eq - e)),
                        narrow(eq + 1, static_cast<int>(std::wcslen(eq + 1))));
        }
    }
    if (block) {
        ::FreeEnvironmentStringsW(block);
    }
    return out;
}

std::uint64_t environment_digest(std::string_view skip_prefix) {
    std::uint64_t sum = 0;
    for (const auto& [name, value] : environment()) {
        if (skip_prefix.empty() ||
            std::string_view(name).substr(0, skip_prefix.size()) != skip_prefix) {
            sum += environment_entry_digest(name + "=" + value);
        }
    }
    return sum;
}

std::optional<std::string> env_var(const std::string& name) {
    const std::wstring n = widen(name);
    const DWORD size = ::GetEnvironmentVariableW(n.c_str(), nullptr, 0);
    if (size == 0) {
        return std::nullopt;  // unset (an empty value still needs a byte for its terminator)
    }
    std::wstring v(size, L'\0');
    const DWORD got = ::GetEnvironmentVariableW(n.c_str(), v.data(), size);
    if (got >= size) {
        return std::nullopt;  // it grew in between: as if read before it was set
    }
    return got == 0 ? std::string() : narrow(v.c_str(), static_cast<int>(got));
}

// Both the process environment (what the env's python311.dll and every child see) and this
// program's C runtime copy (what getenv here sees) are updated.
void set_env(const std::string& name, const std::string& value) {
    const std::wstring n = widen(name), v = widen(value);
    ::SetEnvironmentVariableW(n.c_str(), v.c_str());
    ::_wputenv_s(n.c_str(), v.c_str());
}

void unset_env(const std::string& name) {
    const std::wstring n = widen(name);
    ::SetEnvironmentVariableW(n.c_str(), nullptr);
    ::_wputenv_s(n.c_str(), L"");
}

char path_list_separator() {
    return ';';
}

std::string to_utf8(const fs::path& p) {
    const std::wstring& w = p.native();
    return narrow(w.data(), static_cast<int>(w.size()));
}

fs::path from_utf8(const std::string& s) {
    return fs::path(widen(s));
}

// %LOCALAPPDATA%\alltalk-launch (a per-user folder), else %TEMP%\alltalk-launch.
fs::path runtime_dir_candidate(const EnvMap& env_vars) {
    for (const char* var : {"LOCALAPPDATA", "TEMP", "TMP"}) {
        if (auto dir = lookup(env_vars, var)) {
            return from_utf8(*dir) / "alltalk-launch";
        }
    }
    return from_utf8(lookup(env_vars, "USERPROFILE").value_or("C:\\")) / "alltalk-launch";
}

// The folders above live in the user's own profile, which Windows already keeps private.
bool ensure_private_dir(const fs::path& dir, std::string& why) {
    if (!::CreateDirectoryW(dir.c_str(), nullptr)) {
        DWORD err = ::GetLastError();
        if (err != ERROR_ALREADY_EXISTS) {
            why = "cannot create " + to_utf8(dir) + ": " + last_error_text(err);
            return false;
        }
    }
    DWORD attrs = ::GetFileAttributesW(dir.c_str());
    if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_DIRECTORY) ||
        (attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
        why = to_utf8(dir) + " is not a plain folder";
        return false;
    }
    return true;
}

std::string exec_self(const std::vector<std::string>&) {
    return "not on Windows";
}

// Symbolic links need a privilege on Windows: the alias `python.exe` is a hard link to the
// launcher (same volume), else a copy. A name without ".exe" gets it, as Windows looks for one.
bool make_symlink(const fs::path& target, const fs::path& link_name, std::string& why) {
    fs::path link = link_name;
    link += ".exe";
    std::error_code ec;
    if (fs::exists(link, ec) && fs::equivalent(link, target, ec)) {
        return true;
    }
    fs::create_directories(link.parent_path(), ec);
    if (fs::exists(link, ec) && fs::file_size(link, ec) == fs::file_size(target, ec) &&
        fs::last_write_time(link, ec) >= fs::last_write_time(target, ec)) {
        return true;  // a copy of this launcher, possibly in use by another run
    }
    fs::remove(link, ec);
    if (::CreateHardLinkW(link.c_str(), target.c_str(), nullptr) ||
        ::CopyFileW(target.c_str(), link.c_str(), FALSE)) {
        return true;
    }
    why = "cannot create " + to_utf8(link) + ": " + last_error_text(::GetLastError());
    return false;
}

HostInfo host_info() {
    // platform.release()/version() as Python computes them on Windows: RtlGetVersion (GetVersionEx
    // lies to unmanifested programs).
    HostInfo h;
    h.system = "Windows";
    SYSTEM_INFO si{};
    GetNativeSystemInfo(&si);
    h.machine = si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_ARM64 ? "ARM64" : "AMD64";
    using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
    if (HMODULE ntdll = GetModuleHandleW(L"ntdll.dll")) {
        auto fn = reinterpret_cast<RtlGetVersionFn>(
            reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")));
        OSVERSIONINFOW v{};
        v.dwOSVersionInfoSize = sizeof v;
        if (fn && fn(&v) == 0) {
            h.release = v.dwBuildNumber >= 22000 ? "11" : std::to_string(v.dwMajorVersion);
            h.version = std::to_string(v.dwMajorVersion) + "." + std::to_string(v.dwMinorVersion) +
                        "." + std::to_string(v.dwBuildNumber);
        }
    }
    return h;
}

bool tcp_port_in_use(int port) {
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        return false;
    }
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    bool in_use = false;
    if (s != INVALID_SOCKET) {
        BOOL excl = TRUE;  // refuse to share the port, like a real server bind
        setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&excl),
                   sizeof excl);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<u_short>(port));
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
        in_use = bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SOCKET_ERROR &&
                 WSAGetLastError() == WSAEADDRINUSE;
        closesocket(s);
    }
    WSACleanup();
    return in_use;
}

namespace {

// One argument of a command line as CommandLineToArgvW (and the C runtime) splits it.
std::wstring quote_windows_arg(const std::wstring& arg) {
    if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
        return arg;
    }
    std::wstring out = L"\"";
    std::size_t backslashes = 0;
    for (wchar_t c : arg) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        if (c == L'"') {
            out.append(backslashes * 2 + 1, L'\\');
        } else {
            out.append(backslashes, L'\\');
        }
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, L'\\');
    return out + L"\"";
}

// While a child started by run_attached runs: Ctrl+C and Ctrl+Break reach it (it shares the
// console and its process group) and end it as they would, and this process outlives it to pass
// its status on. SetConsoleCtrlHandler(nullptr, TRUE) would cover Ctrl+C only: Ctrl+Break
// would still end this process first.
BOOL WINAPI outlive_child(DWORD event) {
    return event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT ? TRUE : FALSE;
}

}  // namespace

long long current_pid() {
    return static_cast<long long>(::GetCurrentProcessId());
}

std::optional<int> run_attached(const std::vector<std::string>& argv,
                                const std::vector<EnvChange>& changes, std::string& why) {
    if (argv.empty()) {
        why = "nothing to run";
        return std::nullopt;
    }
    std::wstring cmd;
    for (const auto& a : argv) {
        cmd += (cmd.empty() ? L"" : L" ") + quote_windows_arg(widen(a));
    }
    // A Unicode environment block: NAME=VALUE entries, each ended by a NUL, and one more NUL.
    std::wstring block;
    for (const auto& [name, value] : with_changes(environment(), changes)) {
        block += widen(name) + L"=" + widen(value);
        block.push_back(L'\0');
    }
    block.push_back(L'\0');
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    const std::wstring exe = widen(argv[0]);
    if (!::CreateProcessW(exe.c_str(), cmd.data(), nullptr, nullptr, TRUE,
                          CREATE_UNICODE_ENVIRONMENT, block.data(), nullptr, &si, &pi)) {
        why = "cannot start " + argv[0] + ": " + last_error_text(::GetLastError());
        return std::nullopt;
    }
    ::CloseHandle(pi.hThread);
    ::SetConsoleCtrlHandler(outlive_child, TRUE);
    ::WaitForSingleObject(pi.hProcess, INFINITE);
    ::SetConsoleCtrlHandler(outlive_child, FALSE);
    DWORD code = 0;
    ::GetExitCodeProcess(pi.hProcess, &code);
    ::CloseHandle(pi.hProcess);
    return static_cast<int>(code);
}

bool Child::start(const std::vector<std::string>& argv, const fs::path& output, std::string& why) {
    if (argv.empty()) {
        why = "nothing to run";
        return false;
    }
    SECURITY_ATTRIBUTES sa{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE out = ::CreateFileW(output.c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE,
                               &sa, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (out == INVALID_HANDLE_VALUE) {
        why = "cannot open " + to_utf8(output) + ": " + last_error_text(::GetLastError());
        return false;
    }
    std::wstring cmd;
    for (const auto& a : argv) {
        cmd += (cmd.empty() ? L"" : L" ") + quote_windows_arg(widen(a));
    }
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = out;
    si.hStdError = out;
    si.hStdInput = nullptr;
    PROCESS_INFORMATION pi{};
    const std::wstring exe = widen(argv[0]);
    const BOOL ok =
        ::CreateProcessW(exe.c_str(), cmd.data(), nullptr, nullptr, TRUE,
                         CREATE_NO_WINDOW | CREATE_SUSPENDED, nullptr, nullptr, &si, &pi);
    const DWORD err = ::GetLastError();
    ::CloseHandle(out);
    if (!ok) {
        why = "cannot start " + argv[0] + ": " + last_error_text(err);
        return false;
    }
    // A job that ends with this process (its handle closes) and takes the child's own children.
    if (HANDLE job = ::CreateJobObjectW(nullptr, nullptr)) {
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        ::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
        if (::AssignProcessToJobObject(job, pi.hProcess)) {
            job_ = reinterpret_cast<long long>(job);
        } else {
            ::CloseHandle(job);
        }
    }
    ::ResumeThread(pi.hThread);
    ::CloseHandle(pi.hThread);
    handle_ = reinterpret_cast<long long>(pi.hProcess);
    status_.reset();
    return true;
}

std::optional<int> Child::wait_for(int ms) {
    if (handle_ == 0 || status_) {
        return status_;
    }
    HANDLE h = reinterpret_cast<HANDLE>(handle_);
    if (::WaitForSingleObject(h, static_cast<DWORD>(ms)) != WAIT_OBJECT_0) {
        return std::nullopt;
    }
    DWORD code = 0;
    ::GetExitCodeProcess(h, &code);
    status_ = static_cast<int>(code);
    return status_;
}

void Child::kill() {
    if (handle_ == 0) {
        return;
    }
    HANDLE h = reinterpret_cast<HANDLE>(handle_);
    if (!status_) {
        ::TerminateProcess(h, 1);
        ::WaitForSingleObject(h, 5000);
        status_ = 1;
    }
    if (job_ != 0) {
        ::CloseHandle(reinterpret_cast<HANDLE>(job_));  // kills what the child started
        job_ = 0;
    }
    ::CloseHandle(h);
    handle_ = 0;
}

Child::~Child() {
    kill();
}

std::string stderr_file_tail(std::size_t max_bytes) {
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    if (err == nullptr || err == INVALID_HANDLE_VALUE || GetFileType(err) != FILE_TYPE_DISK) {
        return {};
    }
    // The handle cmd.exe gives for `2> file` is write-only: open the same file again to read it.
    wchar_t path[32768];
    const DWORD len = GetFinalPathNameByHandleW(err, path, 32768, FILE_NAME_NORMALIZED);
    if (len == 0 || len >= 32768) {
        return {};
    }
    HANDLE h =
        CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        return {};
    }
    std::string out;
    LARGE_INTEGER size{};
    if (GetFileSizeEx(h, &size) && size.QuadPart > 0) {
        const auto total = static_cast<unsigned long long>(size.QuadPart);
        const std::size_t n = static_cast<std::size_t>(
            total < max_bytes ? total : static_cast<unsigned long long>(max_bytes));
        LARGE_INTEGER at{};
        at.QuadPart = static_cast<LONGLONG>(total - n);
        DWORD got = 0;
        out.resize(n);
        if (!SetFilePointerEx(h, at, nullptr, FILE_BEGIN) ||
            !ReadFile(h, out.data(), static_cast<DWORD>(n), &got, nullptr)) {
            got = 0;
        }
        out.resize(got);
    }
    CloseHandle(h);
    return out;
}

}  // namespace alltalk::process
