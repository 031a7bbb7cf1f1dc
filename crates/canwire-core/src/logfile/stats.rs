//! What a reader reports besides frames: line counters, the first few
//! problem lines, and where the input ended early.

/// How many problem lines of each kind [`ReadStats`] keeps with their line number.
pub const MAX_RECORDED_ISSUES: usize = 8;
/// How many characters of a problem line's reason are kept.
const MAX_REASON_CHARS: usize = 160;

/// Why a line gave no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// A record the format defines that is not a frame (statistics, status,
    /// J1939, bus-info, warnings): skipped on purpose.
    Skipped,
    /// A line that does not parse: unknown syntax, bad numbers, an invalid frame.
    Unknown,
}

/// One line that gave no frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineIssue {
    /// 1-based line number in the (decompressed) text; the object index for BLF.
    pub line: u64,
    /// Skipped or unknown.
    pub kind: IssueKind,
    /// What the line was or why it did not parse.
    pub reason: String,
}

/// Where and why the input stopped before its regular end. Not an error: every
/// frame before it was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Truncation {
    /// The line the input stopped in (text formats).
    pub line: Option<u64>,
    /// The byte offset the input stopped at, where known (BLF; the compressed
    /// offset is not known for gzip).
    pub byte_offset: Option<u64>,
    /// What was found: a cut last line, a cut gzip stream, a read error.
    pub reason: String,
}

/// Counters kept while reading.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Lines read (text formats) or objects read (BLF).
    pub lines: u64,
    /// Frames handed out.
    pub frames: u64,
    /// Records skipped on purpose (see [`IssueKind::Skipped`]).
    pub skipped: u64,
    /// Lines that did not parse (see [`IssueKind::Unknown`]).
    pub unknown: u64,
    /// The first [`MAX_RECORDED_ISSUES`] skipped and the first
    /// [`MAX_RECORDED_ISSUES`] unknown lines, in file order.
    pub issues: Vec<LineIssue>,
    /// Set once the reader found the input cut short or broken.
    pub truncated: Option<Truncation>,
    /// Damaged stretches skipped (BLF; text formats count bad lines in `unknown`).
    pub damaged: u64,
    /// Bytes skipped over all damaged stretches.
    pub damaged_bytes: u64,
    /// The first few damaged stretches with their byte offset.
    pub damage: Vec<crate::blf::Damage>,
}

impl ReadStats {
    /// Counts a line that gave no frame, keeping the first few with their reason.
    pub fn record(&mut self, line: u64, kind: IssueKind, reason: &str) {
        let count = match kind {
            IssueKind::Skipped => &mut self.skipped,
            IssueKind::Unknown => &mut self.unknown,
        };
        *count += 1;
        if *count <= MAX_RECORDED_ISSUES as u64 {
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            self.issues.push(LineIssue { line, kind, reason });
        }
    }

    /// Line numbers of the recorded issues of one kind.
    pub fn issue_lines(&self, kind: IssueKind) -> Vec<u64> {
        self.issues
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.line)
            .collect()
    }
}
