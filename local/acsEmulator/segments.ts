// SMS segment arithmetic for delivery attempts: GSM-7 (160 / 153 per part, extension characters
// count twice) or UCS-2 (70 / 67 UTF-16 units per part).
import { GSM7_BASIC, GSM7_EXTENSION } from '../../shared/domain/acsFacts.js';

export function countSegments(message: string): { encoding: 'GSM-7' | 'UCS-2'; segments: number } {
  let septets = 0;
  let gsm = true;
  for (const ch of message) {
    if (GSM7_BASIC.includes(ch)) septets += 1;
    else if (GSM7_EXTENSION.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  const units = message.length;
  return { encoding: 'UCS-2', segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}
