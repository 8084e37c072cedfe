// Registers every built-in backup driver; importing this module is what makes them selectable.
import './posix.js';
