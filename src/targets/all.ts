// Registers every built-in target helper; importing this module is what makes them selectable.
import './builtin/index.js';
import './tgtadm/index.js';
