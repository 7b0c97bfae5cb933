/**
 * Splits one line of POSIX shell into simple commands, each as its words: enough shell to read
 * the commands of a README (quotes, backslash escapes, `#` comments, `|`, `||`, `&&`, `;`, `&`
 * and redirections, which are dropped with their target). No expansion: `$VAR` stays as text, so
 * the caller can tell a placeholder from a value. Throws on an unterminated quote.
 */
export function splitShellCommand(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let redirect = false;
  const endWord = () => {
    if (inWord) {
      if (redirect) redirect = false;
      else words.push(word);
    }
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "'") {
      const close = line.indexOf(char, i + 1);
      if (close < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (char === '"') {
      // Inside double quotes a backslash escapes only " \ $ and `.
      let close = i + 1;
      for (; close < line.length && line[close] !== '"'; close++) {
        if (line[close] === '\\' && /["\\$`]/.test(line[close + 1] ?? '')) close++;
        word += line[close];
      }
      if (close >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
      i = close;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (char === '#' && !inWord) {
      break;
    } else if (/\s/.test(char)) {
      endWord();
    } else if (char === '|' || char === ';' || char === '&') {
      // `2>&1`: the & belongs to the redirection, whose target (the digit) follows.
      if (char === '&' && line[i - 1] === '>') continue;
      endCommand();
      if (line[i + 1] === char) i++;
    } else if (char === '>' || char === '<') {
      // `2>` names a file descriptor: the digits before it are not a word.
      if (/^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else endWord();
      if (line[i + 1] === char) i++;
      redirect = true;
    } else {
      word += char;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}
