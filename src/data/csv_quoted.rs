//! Which fields of a CSV record were quoted. The `csv` crate unescapes fields and does
//! not say whether a field was written `""` (an empty string) or left empty (NULL, by
//! the usual convention): this scans the record's raw bytes, from the byte offset the
//! reader reports, with the same rules as the reader's defaults (a field is quoted when
//! its first byte is the quote; `""` inside it is one quote; the record ends at an
//! unquoted `\n` or `\r`).

/// For the record starting at `raw[start..]`, whether each field was quoted.
pub fn quoted_fields(raw: &[u8], start: usize, delimiter: u8) -> Vec<bool> {
    let mut out = Vec::new();
    let mut i = start.min(raw.len());
    loop {
        let quoted = raw.get(i) == Some(&b'"');
        out.push(quoted);
        if quoted {
            i += 1;
            // to the closing quote (a doubled quote is an escaped one)
            while i < raw.len() {
                if raw[i] == b'"' {
                    if raw.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        }
        // to the end of the field (anything after a closing quote belongs to it)
        while i < raw.len() && raw[i] != delimiter && raw[i] != b'\n' && raw[i] != b'\r' {
            i += 1;
        }
        if i < raw.len() && raw[i] == delimiter {
            i += 1;
            continue;
        }
        return out;
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_fields;

    #[test]
    fn quoted_empty_and_unquoted_empty_are_told_apart() {
        let raw = b"id,note\n1,\"\"\n2,\n3,\"a,\"\"b\"\"\nc\",x\n";
        assert_eq!(quoted_fields(raw, 0, b','), [false, false]);
        assert_eq!(quoted_fields(raw, 8, b','), [false, true]);
        assert_eq!(quoted_fields(raw, 13, b','), [false, false]);
        assert_eq!(quoted_fields(raw, 16, b','), [false, true, false]);
        assert_eq!(
            quoted_fields(b"\"\";;\"x\"\r\n", 0, b';'),
            [true, false, true]
        );
        assert_eq!(quoted_fields(b"", 0, b','), [false]);
    }
}
